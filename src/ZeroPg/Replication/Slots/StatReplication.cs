using System.Globalization;
using System.Text;

namespace ZeroPg.Replication.Slots;

/// <summary>One streaming walsender as pg_stat_replication lists it: its client's session and its stream's progress.</summary>
internal sealed record WalsenderRow(int ProcessId, string User, string ApplicationName, string? ClientAddress, int ClientPort,
    DateTimeOffset BackendStart, WalsenderPosition Position);

/// <summary>
/// pg_stat_replication as a client's SQL reads it (Sql/SqlEdit replaces the view with this): one row per streaming
/// walsender of the server, with Postgres's columns and types, built from ZeroPg's own state (the engine has no
/// walsenders). state is 'streaming', sync_state 'async' (there is no synchronous replication).
/// </summary>
internal static class StatReplication
{
    public static string Sql(IEnumerable<WalsenderRow> walsenders)
    {
        var rows = new StringBuilder();
        foreach (var w in walsenders.OrderBy(w => w.ProcessId))
        {
            var p = w.Position;
            rows.Append(rows.Length == 0 ? "" : " UNION ALL ").Append("SELECT ")
                .Append(w.ProcessId.ToString(CultureInfo.InvariantCulture)).Append(", ")
                .Append(Text(w.User)).Append(", ")
                .Append(Text(w.ApplicationName)).Append(", ")
                .Append(w.ClientAddress is null ? "NULL" : Text(w.ClientAddress)).Append(", ")
                .Append(w.ClientPort.ToString(CultureInfo.InvariantCulture)).Append(", ")
                .Append(Time(w.BackendStart)).Append(", ")
                .Append(LsnSql(p.Sent)).Append(", ").Append(LsnSql(p.Write)).Append(", ").Append(LsnSql(p.Flush)).Append(", ").Append(LsnSql(p.Replay)).Append(", ")
                .Append(Interval(p.WriteLag)).Append(", ").Append(Interval(p.FlushLag)).Append(", ").Append(Interval(p.ReplayLag)).Append(", ")
                .Append(p.ReplyTime is { } reply ? Time(reply) : "NULL");
        }
        var source = rows.Length == 0
            ? "SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE false"
            : rows.ToString();
        return "(SELECT w.pid::pg_catalog.int4 AS pid, (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) w.usename) AS usesysid,"
            + " w.usename::pg_catalog.name AS usename, w.application_name::pg_catalog.text AS application_name, w.client_addr::pg_catalog.inet AS client_addr,"
            + " NULL::pg_catalog.text AS client_hostname, w.client_port::pg_catalog.int4 AS client_port, w.backend_start::pg_catalog.timestamptz AS backend_start,"
            + " NULL::pg_catalog.xid AS backend_xmin, 'streaming'::pg_catalog.text AS state, w.sent_lsn::pg_catalog.pg_lsn AS sent_lsn,"
            + " w.write_lsn::pg_catalog.pg_lsn AS write_lsn, w.flush_lsn::pg_catalog.pg_lsn AS flush_lsn, w.replay_lsn::pg_catalog.pg_lsn AS replay_lsn,"
            + " w.write_lag::pg_catalog.interval AS write_lag, w.flush_lag::pg_catalog.interval AS flush_lag, w.replay_lag::pg_catalog.interval AS replay_lag,"
            + " 0::pg_catalog.int4 AS sync_priority, 'async'::pg_catalog.text AS sync_state, w.reply_time::pg_catalog.timestamptz AS reply_time"
            + " FROM (" + source + ") AS w(pid, usename, application_name, client_addr, client_port, backend_start, sent_lsn, write_lsn, flush_lsn, replay_lsn,"
            + " write_lag, flush_lag, replay_lag, reply_time))";
    }

    private static string Text(string value) => "E'" + value.Replace("\\", "\\\\").Replace("'", "''") + "'";

    private static string LsnSql(Lsn lsn) => lsn == Lsn.Invalid ? "NULL" : "'" + lsn + "'";

    private static string Interval(TimeSpan? lag)
        => lag is { } value ? "'" + value.TotalMicroseconds.ToString("0", CultureInfo.InvariantCulture) + " microseconds'" : "NULL";

    private static string Time(DateTimeOffset value) => "'" + value.ToString("yyyy-MM-dd HH:mm:ss.ffffffzzz", CultureInfo.InvariantCulture) + "'";
}
