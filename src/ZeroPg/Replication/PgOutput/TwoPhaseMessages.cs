namespace ZeroPg.Replication.PgOutput;

// Protocol 3+ with two_phase: PREPARE TRANSACTION is decoded at prepare time. Kept together like
// proto.c's logicalrep_write_*prepare*: they share the (flags, lsn, lsn, time, xid, gid) layout.

/// <summary>'b': prepare LSN, end LSN, prepare time, xid, gid.</summary>
internal sealed record BeginPrepareMessage(Lsn PrepareLsn, Lsn EndLsn, long PrepareTime, uint Xid, string Gid) : IPgOutputMessage
{
    public void WriteTo(PgOutputWriter w)
    {
        w.Code(PgOutputCode.BeginPrepare); w.Lsn(PrepareLsn); w.Lsn(EndLsn); w.Int64(PrepareTime); w.UInt32(Xid); w.CString(Gid);
    }
}

/// <summary>'P' (or 'p' for a streamed transaction): flags (0), prepare LSN, end LSN, prepare time, xid, gid.</summary>
internal sealed record PrepareMessage(Lsn PrepareLsn, Lsn EndLsn, long PrepareTime, uint Xid, string Gid, bool Streamed = false) : IPgOutputMessage
{
    public void WriteTo(PgOutputWriter w)
    {
        w.Code(Streamed ? PgOutputCode.StreamPrepare : PgOutputCode.Prepare);
        w.Byte(0); w.Lsn(PrepareLsn); w.Lsn(EndLsn); w.Int64(PrepareTime); w.UInt32(Xid); w.CString(Gid);
    }
}

/// <summary>'K': flags (0), commit LSN, end LSN, commit time, xid, gid.</summary>
internal sealed record CommitPreparedMessage(Lsn CommitLsn, Lsn EndLsn, long CommitTime, uint Xid, string Gid) : IPgOutputMessage
{
    public void WriteTo(PgOutputWriter w)
    {
        w.Code(PgOutputCode.CommitPrepared); w.Byte(0); w.Lsn(CommitLsn); w.Lsn(EndLsn); w.Int64(CommitTime); w.UInt32(Xid); w.CString(Gid);
    }
}

/// <summary>'r': flags (0), prepare end LSN, rollback end LSN, prepare time, rollback time, xid, gid.</summary>
internal sealed record RollbackPreparedMessage(Lsn PrepareEndLsn, Lsn RollbackEndLsn, long PrepareTime, long RollbackTime, uint Xid, string Gid) : IPgOutputMessage
{
    public void WriteTo(PgOutputWriter w)
    {
        w.Code(PgOutputCode.RollbackPrepared); w.Byte(0); w.Lsn(PrepareEndLsn); w.Lsn(RollbackEndLsn);
        w.Int64(PrepareTime); w.Int64(RollbackTime); w.UInt32(Xid); w.CString(Gid);
    }
}
