namespace ZeroPg.Replication.PgOutput;

// The transaction framing messages are four small records of a few fields each; they live together
// because they are written in pairs and share their field layout with proto.c's logicalrep_write_*.

/// <summary>'B': final (commit) LSN, commit time, xid. Sent lazily before the first change.</summary>
internal sealed record BeginMessage(Lsn FinalLsn, long CommitTime, uint Xid) : IPgOutputMessage
{
    public void WriteTo(PgOutputWriter w) { w.Code(PgOutputCode.Begin); w.Lsn(FinalLsn); w.Int64(CommitTime); w.UInt32(Xid); }
}

/// <summary>'C': flags (0), commit LSN, end LSN, commit time.</summary>
internal sealed record CommitMessage(Lsn CommitLsn, Lsn EndLsn, long CommitTime) : IPgOutputMessage
{
    public void WriteTo(PgOutputWriter w) { w.Code(PgOutputCode.Commit); w.Byte(0); w.Lsn(CommitLsn); w.Lsn(EndLsn); w.Int64(CommitTime); }
}

/// <summary>'O': the origin's commit LSN and the origin's name (after Begin, for a replayed transaction).</summary>
internal sealed record OriginMessage(Lsn OriginLsn, string Name) : IPgOutputMessage
{
    public void WriteTo(PgOutputWriter w) { w.Code(PgOutputCode.Origin); w.Lsn(OriginLsn); w.CString(Name); }
}
