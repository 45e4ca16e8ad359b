namespace ZeroPg.Replication.Walsender;

/// <summary>One row of zeropg_repl.changes as the stream reads it (see Capture/CaptureSchema).</summary>
internal sealed record CapturedChange(long Seq, ulong Xid, Lsn Lsn, long Time, uint? RelationOid, char Op,
    string? OldRow, string? NewRow, string? Prefix, byte[]? Content)
{
    /// <summary>
    /// The changes of whole transactions committed after <paramref name="afterSeq"/>, in commit order, at most
    /// <paramref name="maxTransactions"/>, leaving out transactions whose commit LSN (last row + 1) is below <paramref name="from"/>.
    /// Transactions never interleave in the engine (one session), so a transaction's rows are consecutive and the last row of each
    /// stands where it committed, except for a prepared one: its rows come before those committed after its PREPARE, and its
    /// commit is the marker written right before its COMMIT PREPARED (Capture/PreparedCommits). So transactions are ordered by
    /// their last row, and the rows of a prepared one are read back below <paramref name="afterSeq"/> (only when one is there).
    /// </summary>
    public static string FetchSql(long afterSeq, Lsn from, int maxTransactions) => $"""
        WITH t AS MATERIALIZED (
            SELECT xid, max(seq) AS pos, bool_or(op = 'K') AS prepared FROM zeropg_repl.changes WHERE seq > {afterSeq} GROUP BY xid
            HAVING max(lsn) >= '{(from.Value == 0 ? Lsn.Invalid : new Lsn(from.Value - 1))}'::pg_lsn
            ORDER BY max(seq) LIMIT {maxTransactions})
        SELECT c.seq, c.xid::text, c.lsn::text, (extract(epoch FROM c.at) * 1000000)::bigint, c.relid, c.op::text,
               c.old_row, c.new_row, c.prefix, encode(c.content, 'hex')
        FROM (SELECT c.*, t.pos FROM zeropg_repl.changes c JOIN t ON t.xid = c.xid WHERE c.seq > {afterSeq}
              UNION ALL
              SELECT c.*, t.pos FROM zeropg_repl.changes c JOIN t ON t.xid = c.xid AND t.prepared
              WHERE c.seq <= {afterSeq} AND (SELECT bool_or(prepared) FROM t)) c
        ORDER BY c.pos, c.seq
        """;

    private static readonly long UnixToPgMicros = (long)(new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc) - DateTime.UnixEpoch).TotalMicroseconds;

    public static CapturedChange FromRow(string?[] r) => new(
        long.Parse(r[0]!), ulong.Parse(r[1]!), Lsn.TryParse(r[2], out var lsn) ? lsn : Lsn.Invalid, long.Parse(r[3]!) - UnixToPgMicros,
        r[4] is null ? null : uint.Parse(r[4]!), r[5]![0], r[6], r[7], r[8], r[9] is null ? null : Convert.FromHexString(r[9]!));
}
