namespace ZeroPg.Replication.Walsender;

/// <summary>One row of zeropg_repl.changes as the stream reads it (see Capture/CaptureSchema).</summary>
/// <param name="Status">Two-phase reads: pg_xact_status of a commit marker's transaction (committed, aborted, in progress).</param>
/// <param name="Position">Two-phase reads: the seq of the row its group is sent at (<see cref="FetchTwoPhaseSql"/>).</param>
internal sealed record CapturedChange(long Seq, ulong Xid, Lsn Lsn, long Time, uint? RelationOid, char Op,
    string? OldRow, string? NewRow, string? Prefix, byte[]? Content, string? Status = null, long Position = 0)
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

    /// <summary>
    /// <see cref="FetchSql"/> for a two-phase stream (Capture/TwoPhasePrepares). A prepared transaction is two groups: its prepare
    /// (the copies of its rows read at PREPARE, sent at the 'P' marker) and its end (its own rows, its prepare marker wherever it is,
    /// and the commit marker(s) written before COMMIT/ROLLBACK PREPARED units, with the transaction's pg_xact_status). Rows carry
    /// the seq of the row their group is sent at.
    /// </summary>
    public static string FetchTwoPhaseSql(long afterSeq, Lsn from, int maxTransactions) => $"""
        WITH t AS MATERIALIZED (
            SELECT xid, op = 'P' AS at_prepare, max(seq) AS pos, bool_or(op = 'K') AS prepared FROM zeropg_repl.changes WHERE seq > {afterSeq}
            GROUP BY xid, op = 'P'
            HAVING max(lsn) >= '{(from.Value == 0 ? Lsn.Invalid : new Lsn(from.Value - 1))}'::pg_lsn
            ORDER BY max(seq) LIMIT {maxTransactions})
        SELECT c.seq, c.xid::text, c.lsn::text, (extract(epoch FROM c.at) * 1000000)::bigint, c.relid, c.op::text,
               c.old_row, c.new_row, c.prefix, encode(c.content, 'hex'), CASE WHEN c.op = 'K' THEN pg_xact_status(c.xid) END, c.pos
        FROM (SELECT c.*, t.pos FROM zeropg_repl.changes c JOIN t ON t.xid = c.xid AND t.at_prepare = (c.op = 'P') WHERE c.seq > {afterSeq}
              UNION ALL
              SELECT c.*, t.pos FROM zeropg_repl.changes c JOIN t ON t.xid = c.xid AND t.prepared
              WHERE (c.seq <= {afterSeq} OR c.op = 'P') AND (SELECT bool_or(prepared) FROM t)
              UNION ALL
              SELECT c.*, t.pos FROM zeropg_repl.prepared_changes c JOIN t ON t.xid = c.xid AND t.at_prepare) c
        ORDER BY c.pos, c.seq
        """;

    private static readonly long UnixToPgMicros = (long)(new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc) - DateTime.UnixEpoch).TotalMicroseconds;

    public static CapturedChange FromRow(string?[] r) => new(
        long.Parse(r[0]!), ulong.Parse(r[1]!), Lsn.TryParse(r[2], out var lsn) ? lsn : Lsn.Invalid, long.Parse(r[3]!) - UnixToPgMicros,
        r[4] is null ? null : uint.Parse(r[4]!), r[5]![0], r[6], r[7], r[8], r[9] is null ? null : Convert.FromHexString(r[9]!),
        r.Length > 10 ? r[10] : null, r.Length > 11 ? long.Parse(r[11]!) : 0);
}
