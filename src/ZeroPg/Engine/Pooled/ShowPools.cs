using System.Buffers;
using System.Globalization;
using System.Text.RegularExpressions;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;
using ZeroPg.Replication.Walsender;

namespace ZeroPg.Engine.Pooled;

/// <summary>
/// <c>SHOW POOLS</c> (as PgBouncer's admin console names it), answered by ZeroPg to any pooled client outside a transaction:
/// one row per database and role the pool serves, with the pool's backends and waits.
/// </summary>
internal static partial class ShowPools
{
    [GeneratedRegex(@"^\s*show\s+pools\s*;?\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Statement();

    public static bool Matches(ReadOnlySpan<char> sql) => sql.Length < 64 && Statement().IsMatch(sql);

    public static void Write(IBufferWriter<byte> output, BackendPool pool)
    {
        var counts = pool.Counts();
        WalsenderReplies.RowDescription(output, ("database", WalsenderReplies.TextOid), ("user", WalsenderReplies.TextOid),
            ("cl_waiting", WalsenderReplies.Int8Oid), ("sv_idle", WalsenderReplies.Int8Oid), ("pool_sv_active", WalsenderReplies.Int8Oid),
            ("pool_sv_idle", WalsenderReplies.Int8Oid), ("pool_size", WalsenderReplies.Int8Oid), ("pool_cl_waiting", WalsenderReplies.Int8Oid),
            ("pool_waits", WalsenderReplies.Int8Oid), ("pool_wait_total_us", WalsenderReplies.Int8Oid), ("pool_maxwait_us", WalsenderReplies.Int8Oid),
            ("upstream", WalsenderReplies.TextOid));
        var keys = pool.Keys();
        foreach (var (key, idle, waiting) in keys)
        {
            WalsenderReplies.DataRow(output, key.Database, key.User, Text(waiting), Text(idle), Text(counts.Busy), Text(counts.Idle), Text(counts.Size),
                Text(counts.Waiting), Text(counts.Waits), Text((long)counts.WaitTotal.TotalMicroseconds), Text((long)counts.LongestWait.TotalMicroseconds),
                pool.Target.Describe());
        }
        CommandComplete.Write(output, $"SHOW");
        ReadyForQuery.Write(output, TransactionStatus.Idle);
    }

    /// <summary>
    /// The same answer as SQL a backend runs (VALUES of literals): for SHOW POOLS through the extended protocol, or inside a
    /// transaction, where the reply must come in its place among the backend's.
    /// </summary>
    public static string Sql(BackendPool pool)
    {
        var counts = pool.Counts();
        var rows = pool.Keys().Select(k => $"({Literal(k.Key.Database)}, {Literal(k.Key.User)}, {k.Waiting}::int8, {k.Idle}::int8, {counts.Busy}::int8, {counts.Idle}::int8, " +
            $"{counts.Size}::int8, {counts.Waiting}::int8, {counts.Waits}::int8, {(long)counts.WaitTotal.TotalMicroseconds}::int8, {(long)counts.LongestWait.TotalMicroseconds}::int8, {Literal(pool.Target.Describe())})").ToList();
        var filter = rows.Count == 0 ? " WHERE false" : "";
        if (rows.Count == 0)
            rows.Add("(''::text, ''::text, 0::int8, 0::int8, 0::int8, 0::int8, 0::int8, 0::int8, 0::int8, 0::int8, 0::int8, ''::text)");
        return $"SELECT * FROM (VALUES {string.Join(", ", rows)}) AS pools(database, \"user\", cl_waiting, sv_idle, pool_sv_active, pool_sv_idle, pool_size, " +
            $"pool_cl_waiting, pool_waits, pool_wait_total_us, pool_maxwait_us, upstream){filter}";
    }

    private static string Literal(string text) => "'" + text.Replace("'", "''") + "'::text";

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
