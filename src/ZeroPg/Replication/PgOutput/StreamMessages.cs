namespace ZeroPg.Replication.PgOutput;

// Protocol 2+: a large in-progress transaction sent in blocks (Stream Start .. Stop) and then
// committed or aborted. Each is a few fields; kept together like proto.c's logicalrep_write_stream_*.

/// <summary>'S': xid, first-segment flag (1 on the transaction's first block).</summary>
internal sealed record StreamStartMessage(uint Xid, bool FirstSegment) : IPgOutputMessage
{
    public void WriteTo(PgOutputWriter w) { w.Code(PgOutputCode.StreamStart); w.UInt32(Xid); w.Byte(FirstSegment ? (byte)1 : (byte)0); }
}

/// <summary>'E': end of a streamed block.</summary>
internal sealed record StreamStopMessage : IPgOutputMessage
{
    public static readonly StreamStopMessage Instance = new();
    public void WriteTo(PgOutputWriter w) => w.Code(PgOutputCode.StreamStop);
}

/// <summary>'c': xid, flags (0), commit LSN, end LSN, commit time.</summary>
internal sealed record StreamCommitMessage(uint Xid, Lsn CommitLsn, Lsn EndLsn, long CommitTime) : IPgOutputMessage
{
    public void WriteTo(PgOutputWriter w)
    {
        w.Code(PgOutputCode.StreamCommit); w.UInt32(Xid); w.Byte(0); w.Lsn(CommitLsn); w.Lsn(EndLsn); w.Int64(CommitTime);
    }
}

/// <summary>'A': xid, subxid (equal to xid for the whole transaction); protocol 4 with parallel
/// streaming adds the abort LSN and time.</summary>
internal sealed record StreamAbortMessage(uint Xid, uint SubXid, Lsn? AbortLsn = null, long AbortTime = 0) : IPgOutputMessage
{
    public void WriteTo(PgOutputWriter w)
    {
        w.Code(PgOutputCode.StreamAbort); w.UInt32(Xid); w.UInt32(SubXid);
        if (AbortLsn is { } lsn) { w.Lsn(lsn); w.Int64(AbortTime); }
    }
}
