namespace ZeroPg.Protocol;

/// <summary>The status byte of ReadyForQuery.</summary>
internal enum TransactionStatus : byte
{
    Idle = (byte)'I',
    InTransaction = (byte)'T',
    Failed = (byte)'E',
}
