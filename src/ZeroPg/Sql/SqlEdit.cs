using System.Text;

namespace ZeroPg.Sql;

internal enum SqlEditKind : byte
{
    /// <summary>UNLISTEN's channel: the engine keeps listening for the other clients.</summary>
    NoopChannel,
    /// <summary>The name of SQL PREPARE: the engine name of the client's statement (<see cref="ISqlStatementNames"/>), else "zp&lt;pid&gt;_name".</summary>
    PrepareName,
    /// <summary>The name of SQL EXECUTE, as <see cref="PrepareName"/>.</summary>
    ExecuteName,
    /// <summary>The name of SQL DEALLOCATE, as <see cref="PrepareName"/>.</summary>
    DeallocateName,
    /// <summary>pg_listening_channels(): the client's own channels.</summary>
    ListeningChannels,
    /// <summary>pg_advisory_xxx( becomes pg_temp.pg_advisory_xxx(pid, : ZeroPg's function of the same name (so the result column keeps its name)</summary>
    AdvisoryCall,
    AdvisoryCallWithoutArguments,
    /// <summary>pg_prepared_statements: the client's own statements under its own names (<see cref="PreparedStatementsSql"/>).</summary>
    PreparedStatements,
    /// <summary>pg_backend_pid(): the process id the client was given in BackendKeyData.</summary>
    BackendPid,
    /// <summary>pg_stat_activity: the engine's own backend under the client's process id (so "pid &lt;&gt; pg_backend_pid()" still leaves it out).</summary>
    StatActivity,
}

/// <summary>The client's prepared-statement namespace as a SQL rewrite sees it (see <see cref="Sessions.StatementMapping"/>).</summary>
internal interface ISqlStatementNames
{
    /// <summary>The engine's name (an SQL identifier) for the client's statement that <paramref name="edit"/> names.</summary>
    string EngineName(SqlEdit edit);
}

/// <summary>One replacement in a SQL text for the shared engine session; what replaces it depends on the client (<see cref="Apply"/>).</summary>
/// <param name="Text">The advisory function's replacement; the client's statement name (as Postgres folds it); for pg_prepared_statements, "AS" when an alias must follow.</param>
internal readonly record struct SqlEdit(int Start, int Length, SqlEditKind Kind, string? Text = null)
{
    public const string NoopChannel = "zeropg_noop_channel";

    /// <summary>The setting that holds, while a client's statement runs, its statements as JSON: [{"e": engine name, "n": its name, "s": its text}].</summary>
    public const string PreparedStatementsSetting = "zeropg.prepared_statements";

    /// <summary>
    /// pg_prepared_statements as the client must see it: the engine's rows of the client's own statements under its names and texts
    /// (the session sets <see cref="PreparedStatementsSetting"/> right before the statement runs, so the text is the same for every client).
    /// </summary>
    public const string PreparedStatementsSql =
        "(SELECT m.n AS name, m.s AS statement, p.prepare_time, p.parameter_types, p.result_types, p.from_sql, p.generic_plans, p.custom_plans"
        + " FROM pg_catalog.pg_prepared_statements p JOIN pg_catalog.json_to_recordset(COALESCE(NULLIF(pg_catalog.current_setting('"
        + PreparedStatementsSetting + "', true), ''), '[]')::pg_catalog.json) AS m(e text, n text, s text) ON p.name OPERATOR(pg_catalog.=) m.e)";

    public bool IsStatementName => Kind is SqlEditKind.PrepareName or SqlEditKind.ExecuteName or SqlEditKind.DeallocateName;

    /// <summary>The text with the edits applied for the client <paramref name="processId"/>; the same instance when there are none.</summary>
    public static string Apply(string sql, IReadOnlyList<SqlEdit> edits, int processId, Func<string[]>? listeningChannels, ISqlStatementNames? names = null)
    {
        if (edits.Count == 0)
            return sql;
        var builder = new StringBuilder(sql.Length + 32 * edits.Count);
        var position = 0;
        foreach (var edit in edits.OrderBy(e => e.Start))
        {
            builder.Append(sql, position, edit.Start - position).Append(edit.Replacement(sql, processId, listeningChannels, names));
            position = edit.Start + edit.Length;
        }
        return builder.Append(sql, position, sql.Length - position).ToString();
    }

    /// <summary>A client's SQL-level statement name as the engine holds it when no other name applies: "zp&lt;pid&gt;_name".</summary>
    public static string PrefixedName(int processId, string name) => $"zp{processId}_{name}";

    /// <summary><paramref name="name"/> as an SQL identifier: bare when Postgres would fold it to itself, else quoted.</summary>
    public static string Identifier(string name)
    {
        var bare = name.Length > 0 && (char.IsAsciiLetterLower(name[0]) || name[0] == '_');
        foreach (var c in name)
            bare &= char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '$';
        return bare ? name : "\"" + name.Replace("\"", "\"\"") + "\"";
    }

    /// <summary><paramref name="value"/> as an SQL string literal, whatever standard_conforming_strings is.</summary>
    public static string Literal(string value) => "E'" + value.Replace("\\", "\\\\").Replace("'", "''") + "'";

    private string Replacement(string sql, int processId, Func<string[]>? listeningChannels, ISqlStatementNames? names) => Kind switch
    {
        SqlEditKind.NoopChannel => NoopChannel,
        SqlEditKind.PrepareName or SqlEditKind.ExecuteName or SqlEditKind.DeallocateName
            => names?.EngineName(this) ?? Identifier(PrefixedName(processId, Text!)),
        SqlEditKind.ListeningChannels => ChannelsSql(listeningChannels?.Invoke() ?? []),
        SqlEditKind.AdvisoryCall => $"pg_temp.{Text}({processId}, ",
        SqlEditKind.AdvisoryCallWithoutArguments => $"pg_temp.{Text}({processId}",
        SqlEditKind.PreparedStatements => PreparedStatementsSql + (Text == "AS" ? " AS pg_prepared_statements" : ""),
        SqlEditKind.BackendPid => $"(SELECT {processId}::pg_catalog.int4 AS pg_backend_pid)",
        SqlEditKind.StatActivity => StatActivitySql(processId) + (Text == "AS" ? " AS pg_stat_activity" : ""),
        _ => throw new InvalidOperationException($"unknown SQL edit {Kind}"),
    };

    private static string StatActivitySql(int processId)
        => "(SELECT a.datid, a.datname, CASE WHEN a.pid OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid() THEN " + processId
            + " ELSE a.pid END AS pid, a.leader_pid, a.usesysid, a.usename, a.application_name, a.client_addr, a.client_hostname, a.client_port,"
            + " a.backend_start, a.xact_start, a.query_start, a.state_change, a.wait_event_type, a.wait_event, a.state, a.backend_xid, a.backend_xmin,"
            + " a.query_id, a.query, a.backend_type FROM pg_catalog.pg_stat_activity a)";

    private static string ChannelsSql(string[] channels)
        => $"unnest(ARRAY[{string.Join(", ", channels.Order(StringComparer.Ordinal).Select(c => "'" + c.Replace("'", "''") + "'"))}]::text[])";
}
