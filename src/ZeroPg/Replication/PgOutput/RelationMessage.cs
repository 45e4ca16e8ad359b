namespace ZeroPg.Replication.PgOutput;

/// <summary>pg_class.relreplident as pgoutput sends it.</summary>
internal enum ReplicaIdentity : byte
{
    Default = (byte)'d',
    Nothing = (byte)'n',
    Full = (byte)'f',
    Index = (byte)'i',
}

/// <summary>One published column: flags bit 1 marks a replica-identity key column (every column under FULL).</summary>
internal sealed record RelationColumn(bool IsKey, string Name, uint TypeOid, int TypeModifier);

/// <summary>'R': describes a relation before its first change and again after it changes.
/// Namespace is empty for pg_catalog, as pgoutput's logicalrep_write_namespace does.</summary>
internal sealed record RelationMessage(
    uint RelationOid, string Namespace, string Name, ReplicaIdentity Identity, IReadOnlyList<RelationColumn> Columns,
    uint? StreamXid = null) : IPgOutputMessage
{
    public void WriteTo(PgOutputWriter w)
    {
        w.Code(PgOutputCode.Relation);
        w.StreamXid(StreamXid);
        w.UInt32(RelationOid);
        w.CString(Namespace == "pg_catalog" ? "" : Namespace);
        w.CString(Name);
        w.Byte((byte)Identity);
        w.Int16(checked((short)Columns.Count));
        foreach (var c in Columns)
        {
            w.Byte(c.IsKey ? (byte)1 : (byte)0);
            w.CString(c.Name);
            w.UInt32(c.TypeOid);
            w.Int32(c.TypeModifier);
        }
    }
}

/// <summary>'Y': a non-built-in type (OID >= FirstGenbkiObjectId, 10000) used by a relation's column.</summary>
internal sealed record TypeMessage(uint TypeOid, string Namespace, string Name, uint? StreamXid = null) : IPgOutputMessage
{
    public void WriteTo(PgOutputWriter w)
    {
        w.Code(PgOutputCode.Type);
        w.StreamXid(StreamXid);
        w.UInt32(TypeOid);
        w.CString(Namespace == "pg_catalog" ? "" : Namespace);
        w.CString(Name);
    }
}
