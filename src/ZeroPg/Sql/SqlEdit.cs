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
    /// <summary>A cursor's name (DECLARE, FETCH, MOVE, CLOSE, WHERE CURRENT OF): "zp&lt;pid&gt;_name", so each client has its own cursor namespace.</summary>
    CursorName,
    /// <summary>CLOSE ALL: closes the client's own cursors only (<see cref="SqlEdit.CloseOwnCursorsSql"/>).</summary>
    CloseAllCursors,
    /// <summary>pg_cursors: the client's own cursors under their own names, and the portals of the transaction it runs.</summary>
    Cursors,
    /// <summary>pg_locks: the engine's locks under the client's process id and every client's advisory locks under its own (<see cref="Sessions.AdvisoryLockSql.LocksView"/>).</summary>
    Locks,
    /// <summary>pg_logical_emit_message( becomes ZeroPg's function of the same name in zeropg_repl, which records the message for the replication stream.</summary>
    LogicalMessage,
    /// <summary>A slot function's head (Text: its name, lower case), e.g. pg_create_logical_replication_slot( : ZeroPg's function of the same
    /// name in zeropg_repl, given the caller's pid and the active slots first (Replication/Slots/SlotFunctions).</summary>
    SlotFunction,
    /// <summary>pg_replication_slots read as a relation: ZeroPg's slots (zeropg_repl.replication_slots).</summary>
    ReplicationSlots,
    /// <summary>pg_stat_replication read as a relation: ZeroPg's streaming walsenders (Replication/Slots/StatReplication).</summary>
    StatReplication,
    /// <summary>pg_terminate_backend( / pg_cancel_backend( (Text: the function): the call opens a query that signals ZeroPg (<see cref="SqlEdit.SignalChannel"/>) for a client's pid.</summary>
    SignalOpen,
    /// <summary>The call's end, from its second argument (a timeout, not used) or its closing parenthesis.</summary>
    SignalClose,
    /// <summary>
    /// A catalog, statistics or information_schema view read as a relation (Text: its name, then " AS" when it needs its name as an alias,
    /// then the system columns the text names): without ZeroPg's objects and other clients' temp relations (<see cref="CatalogViews"/>).
    /// </summary>
    Catalog,
    /// <summary>pg_my_temp_schema(): 0 until the client made a temp object (the engine session's temp schema may be another client's or ZeroPg's).</summary>
    MyTempSchema,
    /// <summary>SET TRANSACTION SNAPSHOT 'name' (Text: the name): the import of a snapshot ZeroPg exported (<see cref="ISqlSessionView.SnapshotImport"/>), else as written.</summary>
    TransactionSnapshot,
    /// <summary>pg_database_size( (Text: the argument's alias): the head of <see cref="SqlEdit.DatabaseCallSql"/>.</summary>
    DatabaseSizeCall,
    /// <summary>has_database_privilege( (Text: the arguments' aliases, "u d p" or "d p"): the head of <see cref="SqlEdit.DatabaseCallSql"/>.</summary>
    DatabasePrivilegeCall,
    /// <summary>Replaced by Text as it is.</summary>
    Verbatim,
    /// <summary>pg_database read as a relation: every database of the server, not only those of the engine's own cluster (<see cref="SqlEdit.DatabasesSql"/>).</summary>
    Databases,
}

/// <summary>The connected clients as a client's SQL sees them (pg_stat_activity, pg_terminate_backend): supplied by the session.</summary>
internal interface ISqlSessionView
{
    /// <summary>Every connected client's pg_stat_activity row as SQL VALUES (<see cref="Sessions.SessionActivity.ValuesSql"/>).</summary>
    string ActivityRows();

    /// <summary>The slots walsenders stream from now, as the SQL jsonb {"slot": pid} ZeroPg's slot functions take.</summary>
    string ActiveSlots();

    /// <summary>The other databases' replication slots as pg_replication_slots rows, a JSON array (<see cref="Replication.Slots.ClusterSlots.OtherRows"/>); empty when none.</summary>
    string OtherSlots();

    /// <summary>pg_stat_replication's rows: the server's streaming walsenders (<see cref="Replication.Slots.StatReplication.Sql"/>).</summary>
    string StatReplication();

    /// <summary>The process ids of the connected clients this client may signal (Postgres's rules), as an SQL int4[] literal.</summary>
    string ClientPids();

    /// <summary>The process ids of the connected clients it may not signal, as an SQL int4[] literal.</summary>
    string DeniedPids();

    /// <summary>What SET TRANSACTION SNAPSHOT of <paramref name="name"/> runs in the engine when ZeroPg exported it (Replication/Snapshots); null: the statement as written.</summary>
    string? SnapshotImport(string name);
    /// <summary>
    /// The server's databases other than postgres, template0, template1 and the client's own, as SQL VALUES rows (oid, datname)
    /// (<see cref="Databases.DatabaseListing.Rows"/>); empty when there are none.
    /// </summary>
    string OtherDatabases();

    /// <summary>The other databases' names and the oids this client sees them under (<see cref="OtherDatabases"/>, and postgres from another database), as an SQL text[] literal.</summary>
    string OtherDatabaseKeys();

    /// <summary>Those databases' sizes in bytes as last read (NULL when unknown), as SQL VALUES rows (key text, bytes int8); empty when there are none.</summary>
    string OtherDatabaseSizes();

    /// <summary>The client made a temp object, so the engine session's temp schema is its own (pg_my_temp_schema(), pg_namespace).</summary>
    bool HasTempSchema() => false;
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

    /// <summary>
    /// The channel on which a client's pg_terminate_backend / pg_cancel_backend tell ZeroPg what to do, as "terminate|cancel|absent
    /// &lt;caller pid&gt; &lt;target pid&gt;" (the engine session listens to it: <see cref="SignalListenSql"/>).
    /// </summary>
    public const string SignalChannel = "zeropg_signal";

    public const string SignalListenSql = "LISTEN " + SignalChannel;

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
    public static string Apply(string sql, IReadOnlyList<SqlEdit> edits, int processId, Func<string[]>? listeningChannels, ISqlStatementNames? names = null,
        ISqlSessionView? view = null)
    {
        if (edits.Count == 0)
            return sql;
        var builder = new StringBuilder(sql.Length + 32 * edits.Count);
        var position = 0;
        foreach (var edit in edits.OrderBy(e => e.Start))
        {
            builder.Append(sql, position, edit.Start - position).Append(edit.Replacement(sql, processId, listeningChannels, names, view));
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

    private string Replacement(string sql, int processId, Func<string[]>? listeningChannels, ISqlStatementNames? names, ISqlSessionView? view) => Kind switch
    {
        SqlEditKind.NoopChannel => NoopChannel,
        SqlEditKind.PrepareName or SqlEditKind.ExecuteName or SqlEditKind.DeallocateName
            => names?.EngineName(this) ?? Identifier(PrefixedName(processId, Text!)),
        SqlEditKind.ListeningChannels => ChannelsSql(listeningChannels?.Invoke() ?? []),
        SqlEditKind.AdvisoryCall => $"pg_temp.{Text}({processId}, ",
        SqlEditKind.AdvisoryCallWithoutArguments => $"pg_temp.{Text}({processId}",
        SqlEditKind.PreparedStatements => PreparedStatementsSql + (Text == "AS" ? " AS pg_prepared_statements" : ""),
        SqlEditKind.BackendPid => $"(SELECT {processId}::pg_catalog.int4 AS pg_backend_pid)",
        SqlEditKind.StatActivity => StatActivitySql(processId, view?.ActivityRows(), view?.OtherDatabases() ?? "") + (Text == "AS" ? " AS pg_stat_activity" : ""),
        SqlEditKind.LogicalMessage => "zeropg_repl.pg_logical_emit_message(",
        SqlEditKind.SlotFunction => $"zeropg_repl.{Text}({processId}, {view?.ActiveSlots() ?? "'{}'::pg_catalog.jsonb"}, ",
        SqlEditKind.ReplicationSlots => ReplicationSlotsSql(view?.ActiveSlots() ?? "'{}'::pg_catalog.jsonb", view?.OtherSlots() ?? "")
            + (Text == "AS" ? " AS pg_replication_slots" : ""),
        SqlEditKind.StatReplication => (view?.StatReplication() ?? Replication.Slots.StatReplication.Sql([])) + (Text == "AS" ? " AS pg_stat_replication" : ""),
        SqlEditKind.Locks => Sessions.AdvisoryLockSql.LocksView(processId) + (Text == "AS" ? " AS pg_locks" : ""),
        SqlEditKind.CursorName => Identifier(PrefixedName(processId, Text!)),
        SqlEditKind.SignalOpen => SignalOpenSql(Text!, processId, view?.ClientPids() ?? "'{}'::pg_catalog.int4[]", view?.DeniedPids() ?? "'{}'::pg_catalog.int4[]"),
        SqlEditKind.SignalClose => ")::pg_catalog.int4 AS p) AS zp)",
        SqlEditKind.CloseAllCursors => CloseOwnCursorsSql(processId),
        SqlEditKind.Cursors => CursorsSql(processId) + (Text == "AS" ? " AS pg_cursors" : ""),
        SqlEditKind.TransactionSnapshot => view?.SnapshotImport(Text!) ?? sql.Substring(Start, Length),
        SqlEditKind.Catalog => CatalogSql(Text!, view?.HasTempSchema() ?? false),
        SqlEditKind.MyTempSchema => view?.HasTempSchema() ?? false ? "pg_catalog.pg_my_temp_schema()" : "(SELECT 0::pg_catalog.oid AS pg_my_temp_schema)",
        SqlEditKind.DatabaseSizeCall or SqlEditKind.DatabasePrivilegeCall => DatabaseCallSql(Kind == SqlEditKind.DatabaseSizeCall, Text!,
            view?.OtherDatabaseKeys() ?? "'{}'::pg_catalog.text[]", view?.OtherDatabaseSizes() ?? ""),
        SqlEditKind.Verbatim => Text!,
        SqlEditKind.Databases => DatabasesSql(view?.OtherDatabases() ?? "", Text!.Contains("daticulocale"), Text.Contains("tableoid"))
            + (Text.StartsWith("AS", StringComparison.Ordinal) ? " AS pg_database" : ""),
        _ => throw new InvalidOperationException($"unknown SQL edit {Kind}"),
    };

    /// <summary>A <see cref="SqlEditKind.Catalog"/> edit's replacement from its text: "name [AS] [system columns]".</summary>
    private static string CatalogSql(string text, bool hasTempSchema)
    {
        var words = text.Split(' ');
        var aliased = words.Length > 1 && words[1] == "AS";
        var sql = CatalogViews.Sql(words[0], hasTempSchema, words.Skip(aliased ? 2 : 1));
        return aliased ? sql + " AS " + words[0].Split('.')[^1] : sql;
    }

    /// <summary>
    /// pg_stat_activity with one row per connected client (<paramref name="rows"/>, see <see cref="Sessions.SessionActivity.ValuesSql"/>), the
    /// database, user and transaction ids taken from the engine's own backend; without rows (no session context) the engine's
    /// row under the client's process id.
    /// </summary>
    private static string StatActivitySql(int processId, string? rows, string otherDatabases)
    {
        if (rows is null)
        {
            return "(SELECT a.datid, a.datname, CASE WHEN a.pid OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid() THEN " + processId
                + " ELSE a.pid END AS pid, a.leader_pid, a.usesysid, a.usename, a.application_name, a.client_addr, a.client_hostname, a.client_port,"
                + " a.backend_start, a.xact_start, a.query_start, a.state_change, a.wait_event_type, a.wait_event, a.state, a.backend_xid, a.backend_xmin,"
                + " a.query_id, a.query, a.backend_type FROM pg_catalog.pg_stat_activity a)";
        }
        return "(SELECT (SELECT d.oid FROM " + DatabasesSql(otherDatabases) + " d WHERE d.datname OPERATOR(pg_catalog.=) s.datname) AS datid,"
            + " s.datname, s.pid, NULL::pg_catalog.int4 AS leader_pid,"
            + " (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) s.usename) AS usesysid,"
            + " s.usename, s.application_name, s.client_addr,"
            + " NULL::pg_catalog.text AS client_hostname, s.client_port, s.backend_start, s.xact_start, s.query_start, s.state_change,"
            + " s.wait_event_type, s.wait_event, s.state, CASE WHEN s.pid OPERATOR(pg_catalog.=) " + processId + " THEN e.backend_xid END AS backend_xid,"
            + " CASE WHEN s.pid OPERATOR(pg_catalog.=) " + processId + " THEN e.backend_xmin END AS backend_xmin, NULL::pg_catalog.int8 AS query_id,"
            + " s.query, 'client backend'::pg_catalog.text AS backend_type FROM (" + rows + ") AS s(pid, datname, usename, application_name, client_addr, client_port,"
            + " backend_start, xact_start, query_start, state_change, wait_event_type, wait_event, state, query)"
            + " LEFT JOIN pg_catalog.pg_stat_activity e ON e.pid OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid())";
    }

    /// <summary>
    /// pg_replication_slots as Postgres lists them, the whole server's: this database's from its engine (<paramref name="active"/>: its
    /// walsenders' slots), then the other databases' as ZeroPg last read them (<paramref name="others"/>: a JSON array of rows).
    /// </summary>
    private static string ReplicationSlotsSql(string active, string others)
    {
        var own = "SELECT * FROM zeropg_repl.replication_slots(" + active + ")";
        if (others.Length == 0)
            return "(" + own + ")";
        return "(" + own + " UNION ALL SELECT * FROM pg_catalog.jsonb_to_recordset(" + Literal(others) + "::pg_catalog.jsonb) AS zp("
            + Replication.Slots.ClusterSlots.ColumnTypes + "))";
    }

    /// <summary>
    /// pg_database as a client of any database sees it: the engine's own rows of postgres, template0, template1 and the current
    /// database (its real oid, so pg_stat_database and pg_database_size(oid) agree with it), then one row per other database of the
    /// server (<paramref name="others"/>: VALUES (oid, name)), the current database's row under that oid and name. With
    /// <paramref name="icuLocale"/> the column PostgreSQL 15 and 16 had (psql 15's \l reads it; 17 renamed it datlocale), with
    /// <paramref name="tableOid"/> the system column pg_dump reads.
    /// </summary>
    public static string DatabasesSql(string others, bool icuLocale = false, bool tableOid = false)
    {
        var extra = (icuLocale ? ", d.datlocale AS daticulocale" : "") + (tableOid ? ", d.tableoid" : "");
        var sql = "(SELECT d.*" + extra + " FROM pg_catalog.pg_database d WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()"
            + " OR d.datname OPERATOR(pg_catalog.=) ANY ('{postgres,template0,template1}'::pg_catalog.name[])";
        if (others.Length == 0)
            return sql + ")";
        return sql + " UNION ALL SELECT r.*" + extra.Replace("d.datlocale", "r.datlocale") + " FROM pg_catalog.pg_database d CROSS JOIN LATERAL (VALUES " + others
            + ") AS v(o, n) CROSS JOIN LATERAL pg_catalog.jsonb_populate_record(d, pg_catalog.jsonb_build_object('oid', v.o, 'datname', v.n,"
            + " 'datistemplate', false, 'datallowconn', true, 'datacl', NULL)) AS r WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())";
    }

    /// <summary>The aliases of a database call's arguments in <see cref="DatabaseCallSql"/>, in order.</summary>
    public static string[] DatabaseCallArguments(bool size, int count) => size ? ["d"] : count == 2 ? ["d", "p"] : ["u", "d", "p"];

    /// <summary>
    /// The head of pg_database_size(db) / has_database_privilege([user,] db, privilege), whose arguments follow as "(arg) AS alias"
    /// (<see cref="DatabaseCallArguments"/>): for one of the server's other databases (<paramref name="keys"/>: their names and
    /// oids as text), its size as ZeroPg last read it (<paramref name="sizes"/>), or the privilege the engine's own postgres
    /// database has (every database of the server has postgres's owner and no ACL); else the engine's function.
    /// </summary>
    private static string DatabaseCallSql(bool size, string first, string keys, string sizes)
    {
        var other = "zp.d::pg_catalog.text OPERATOR(pg_catalog.=) ANY (" + keys + ")";
        if (size)
        {
            var known = sizes.Length == 0 ? "NULL::pg_catalog.int8"
                : "(SELECT v.s FROM (VALUES " + sizes + ") AS v(k, s) WHERE v.k OPERATOR(pg_catalog.=) zp.d::pg_catalog.text)";
            return "(SELECT CASE WHEN " + other + " THEN " + known + " ELSE pg_catalog.pg_database_size(zp.d) END AS pg_database_size FROM (SELECT (";
        }
        var user = first == "u" ? "zp.u, " : "";
        return "(SELECT CASE WHEN " + other + " THEN pg_catalog.has_database_privilege(" + user + "'" + Databases.DatabaseSite.PrimaryName + "', zp.p)"
            + " ELSE pg_catalog.has_database_privilege(" + user + "zp.d, zp.p) END AS has_database_privilege FROM (SELECT (";
    }

    /// <summary>
    /// The head of pg_terminate_backend(pid) / pg_cancel_backend(pid): true for a connected client's pid (ZeroPg then acts on it), false
    /// with ZeroPg's WARNING for any other, NULL for NULL; the column keeps the function's name.
    /// </summary>
    private static string SignalOpenSql(string function, int processId, string clientPids, string deniedPids)
    {
        var kind = function == "pg_terminate_backend" ? "terminate" : "cancel";
        return "(SELECT CASE WHEN zp.p IS NULL THEN NULL::pg_catalog.bool WHEN zp.p OPERATOR(pg_catalog.=) ANY (" + clientPids + ") THEN"
            + " (SELECT true FROM pg_catalog.pg_notify('" + SignalChannel + "', '" + kind + " " + processId + " ' OPERATOR(pg_catalog.||) zp.p::pg_catalog.text))"
            + " WHEN zp.p OPERATOR(pg_catalog.=) ANY (" + deniedPids + ") THEN"
            + " (SELECT false FROM pg_catalog.pg_notify('" + SignalChannel + "', 'denied-" + kind + " " + processId + " ' OPERATOR(pg_catalog.||) zp.p::pg_catalog.text))"
            + " ELSE (SELECT false FROM pg_catalog.pg_notify('" + SignalChannel + "', 'absent " + processId + " ' OPERATOR(pg_catalog.||) zp.p::pg_catalog.text))"
            + " END AS " + function + " FROM (SELECT (";
    }

    /// <summary>SQL that closes every cursor of the client <paramref name="processId"/> (CLOSE ALL, and its disconnect).</summary>
    public static string CloseOwnCursorsSql(int processId)
        => "DO $zeropg$DECLARE r record; BEGIN FOR r IN SELECT name FROM pg_catalog.pg_cursors WHERE pg_catalog.starts_with(name, '"
            + PrefixedName(processId, "") + "') LOOP EXECUTE 'CLOSE ' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(r.name); END LOOP; END$zeropg$";

    private static string CursorsSql(int processId)
    {
        var prefix = PrefixedName(processId, "");
        return "(SELECT CASE WHEN pg_catalog.starts_with(c.name, '" + prefix + "') THEN pg_catalog.substr(c.name, " + (prefix.Length + 1)
            + ") ELSE c.name END AS name, pg_catalog.replace(c.statement, '" + prefix + "', '') AS statement, c.is_holdable, c.is_binary,"
            + " c.is_scrollable, c.creation_time FROM pg_catalog.pg_cursors c WHERE pg_catalog.starts_with(c.name, '" + prefix
            + "') OR (c.name OPERATOR(pg_catalog.!~) '^zp[0-9]+_' AND c.name OPERATOR(pg_catalog.<>) ''))"; // "": a protocol portal, which Postgres does not list
    }

    private static string ChannelsSql(string[] channels)
        => $"unnest(ARRAY[{string.Join(", ", channels.Order(StringComparer.Ordinal).Select(c => "'" + c.Replace("'", "''") + "'"))}]::text[])";
}
