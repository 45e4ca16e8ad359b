namespace ZeroPg.Replication.Stream;

/// <summary>First byte of a CopyData payload the walsender sends.</summary>
internal enum WalSenderCode : byte
{
    XLogData = (byte)'w',
    PrimaryKeepalive = (byte)'k',
}

/// <summary>First byte of a CopyData payload the replication client sends.</summary>
internal enum WalReceiverCode : byte
{
    StandbyStatusUpdate = (byte)'r',
    HotStandbyFeedback = (byte)'h',
}
