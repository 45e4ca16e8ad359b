namespace ZeroPg.Replication.PgOutput;

/// <summary>'I': relation id, 'N', the new tuple.</summary>
internal sealed record InsertMessage(uint RelationOid, IReadOnlyList<TupleValue> NewTuple, uint? StreamXid = null) : IPgOutputMessage
{
    public void WriteTo(PgOutputWriter w)
    {
        w.Code(PgOutputCode.Insert);
        w.StreamXid(StreamXid);
        w.UInt32(RelationOid);
        w.Byte((byte)'N');
        TupleData.Write(w, NewTuple);
    }
}

/// <summary>Which old tuple an Update/Delete carries: 'K' key columns (others 'n'), 'O' the whole old row (FULL).</summary>
internal enum OldTupleKind : byte
{
    None = 0,
    Key = (byte)'K',
    Old = (byte)'O',
}

/// <summary>'U': relation id, optional 'K'/'O' old tuple (only when the key changed or identity is FULL), 'N' new tuple.</summary>
internal sealed record UpdateMessage(
    uint RelationOid, OldTupleKind OldKind, IReadOnlyList<TupleValue>? OldTuple, IReadOnlyList<TupleValue> NewTuple,
    uint? StreamXid = null) : IPgOutputMessage
{
    public void WriteTo(PgOutputWriter w)
    {
        w.Code(PgOutputCode.Update);
        w.StreamXid(StreamXid);
        w.UInt32(RelationOid);
        if (OldKind != OldTupleKind.None)
        {
            w.Byte((byte)OldKind);
            TupleData.Write(w, OldTuple ?? throw new InvalidOperationException("an old tuple kind needs an old tuple"));
        }
        w.Byte((byte)'N');
        TupleData.Write(w, NewTuple);
    }
}

/// <summary>'D': relation id, 'K' or 'O', the old tuple.</summary>
internal sealed record DeleteMessage(uint RelationOid, OldTupleKind OldKind, IReadOnlyList<TupleValue> OldTuple, uint? StreamXid = null) : IPgOutputMessage
{
    public void WriteTo(PgOutputWriter w)
    {
        if (OldKind == OldTupleKind.None) throw new InvalidOperationException("a Delete carries a 'K' or 'O' tuple");
        w.Code(PgOutputCode.Delete);
        w.StreamXid(StreamXid);
        w.UInt32(RelationOid);
        w.Byte((byte)OldKind);
        TupleData.Write(w, OldTuple);
    }
}

[Flags]
internal enum TruncateOptions : byte
{
    None = 0,
    Cascade = 1,
    RestartIdentity = 2,
}

/// <summary>'T': relation count, options (1 CASCADE, 2 RESTART IDENTITY), relation ids.</summary>
internal sealed record TruncateMessage(TruncateOptions Options, IReadOnlyList<uint> RelationOids, uint? StreamXid = null) : IPgOutputMessage
{
    public void WriteTo(PgOutputWriter w)
    {
        w.Code(PgOutputCode.Truncate);
        w.StreamXid(StreamXid);
        w.Int32(RelationOids.Count);
        w.Byte((byte)Options);
        foreach (var oid in RelationOids) w.UInt32(oid);
    }
}

/// <summary>'M' (pg_logical_emit_message): flags (1 transactional), LSN, prefix, length, content.
/// A streamed transactional message carries the xid first.</summary>
internal sealed record LogicalMessage(bool Transactional, Lsn Lsn, string Prefix, ReadOnlyMemory<byte> Content, uint? StreamXid = null) : IPgOutputMessage
{
    public void WriteTo(PgOutputWriter w)
    {
        w.Code(PgOutputCode.Message);
        if (Transactional) w.StreamXid(StreamXid);
        w.Byte(Transactional ? (byte)1 : (byte)0);
        w.Lsn(Lsn);
        w.CString(Prefix);
        w.Int32(Content.Length);
        w.Bytes(Content.Span);
    }
}
