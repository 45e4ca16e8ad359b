using ZeroPg.Sql;

namespace ZeroPg.Tests.Sql;

/// <summary>What a client's SQL does to its own session state, and how it is rewritten for the shared engine session.</summary>
public sealed class SqlEffectsTests
{
    private static string Rewrite(string sql, params string[] channels) => SqlAnalysis.Of(sql).Rewrite(42, () => channels);

    [Theory]
    [InlineData("SELECT * FROM pg_create_logical_replication_slot($1, 'pgoutput')", "SELECT * FROM zeropg_repl.pg_create_logical_replication_slot(42, '{}'::pg_catalog.jsonb, $1, 'pgoutput')", true)]
    [InlineData("select pg_catalog.pg_drop_replication_slot('s')", "select zeropg_repl.pg_drop_replication_slot(42, '{}'::pg_catalog.jsonb, 's')", true)]
    [InlineData("SELECT data FROM PG_LOGICAL_SLOT_PEEK_BINARY_CHANGES('s', NULL, NULL)", "SELECT data FROM zeropg_repl.pg_logical_slot_peek_binary_changes(42, '{}'::pg_catalog.jsonb, 's', NULL, NULL)", true)]
    [InlineData("select pg_drop_replication_slot()", "select pg_drop_replication_slot()", false)] // the engine says it does not exist, as Postgres
    [InlineData("select app.pg_drop_replication_slot('s')", "select app.pg_drop_replication_slot('s')", false)]
    [InlineData("select * from pg_replication_slots where active", "select * from (SELECT * FROM zeropg_repl.replication_slots('{}'::pg_catalog.jsonb)) AS pg_replication_slots where active", true)]
    [InlineData("select s.slot_name from pg_catalog.pg_replication_slots s", "select s.slot_name from (SELECT * FROM zeropg_repl.replication_slots('{}'::pg_catalog.jsonb)) s", true)]
    [InlineData("select * from app.pg_replication_slots", "select * from app.pg_replication_slots", false)]
    public void Slot_functions_and_pg_replication_slots_become_ZeroPgs(string sql, string expected, bool usesSlots)
    {
        Assert.Equal(usesSlots, SqlAnalysis.Of(sql).UsesReplicationSlots);
        Assert.Equal(expected, Rewrite(sql));
    }

    [Fact]
    public void Pg_stat_replication_is_ZeroPgs_walsenders()
    {
        var rewritten = Rewrite("select pid, state from pg_stat_replication");
        Assert.StartsWith("select pid, state from (SELECT w.pid::pg_catalog.int4 AS pid,", rewritten);
        Assert.EndsWith(" AS pg_stat_replication", rewritten);
        Assert.Contains("WHERE false", rewritten); // no walsender without a session view
    }

    [Fact]
    public void Most_SQL_has_no_effect_and_is_sent_as_it_is()
    {
        var analysis = SqlAnalysis.Of("select * from t where a = 1");
        Assert.True(analysis.Effects.IsNone);
        Assert.Same(analysis.Sql, analysis.Rewrite(42, null));
    }

    [Theory]
    [InlineData("SET search_path = x", "")]
    [InlineData("SET SESSION \"MyApp\".\"Key\" TO 'v'", "MyApp.Key")]
    [InlineData("reset all", "")]
    [InlineData("select set_config('App.Tenant', '7', false)", "app.tenant")]
    public void Settings_changes_and_custom_setting_names_are_noted(string sql, string custom)
    {
        var effects = SqlAnalysis.Of(sql).Effects;
        Assert.True(effects.SettingsChanged);
        Assert.Equal(custom.Length == 0 ? [] : [custom], effects.CustomSettings);
    }

    [Theory]
    [InlineData("set local myapp.user_id = 5", "myapp.user_id")]
    [InlineData("SET LOCAL search_path = x", "")]
    [InlineData("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", "")]
    [InlineData("set constraints all deferred", "")]
    public void Settings_that_end_with_their_transaction_change_nothing_of_the_session(string sql, string custom)
    {
        var effects = SqlAnalysis.Of(sql).Effects;
        Assert.False(effects.SettingsChanged);
        Assert.Equal(custom.Length == 0 ? [] : [custom], effects.CustomSettings);
        Assert.True(SqlAnalysis.Of("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE").Effects.SettingsChanged);
    }

    [Theory]
    [InlineData("SET search_path = a, b", "search_path")]
    [InlineData("set Work_Mem to '8MB'; reset statement_timeout", "work_mem,statement_timeout")]
    [InlineData("SET SESSION TIME ZONE 'Asia/Tokyo'", "timezone")]
    [InlineData("set schema 'x'", "search_path")]
    [InlineData("SET \"MyApp\".\"Key\" = 'v'; set local lock_timeout = 1", "MyApp.Key")]
    public void Plain_sets_and_resets_name_what_is_read_back(string sql, string names)
    {
        var effects = SqlAnalysis.Of(sql).Effects;
        Assert.True(effects.SettingsChanged);
        Assert.True(effects.SettingsOnlyByName);
        Assert.Equal(names.Split(','), effects.SetNames);
    }

    [Theory]
    [InlineData("RESET ALL")]
    [InlineData("SET ROLE r1")]
    [InlineData("SET SESSION AUTHORIZATION r1")]
    [InlineData("reset session authorization")]
    [InlineData("SET NAMES 'LATIN1'")]
    [InlineData("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")]
    [InlineData("SET transaction_isolation = 'serializable'")]
    [InlineData("SET work_mem = '8MB'; SELECT set_config('search_path', 'x', false)")]
    [InlineData("set work_mem = '8MB'; discard all")]
    [InlineData("DO $$BEGIN PERFORM set_config('search_path', 'nowhere', false); END$$")] // code no analysis of this text sees into
    [InlineData("call app.configure()")]
    [InlineData("EXECUTE stmt1")] // the prepared statement's text is not this one
    public void Other_settings_changes_are_read_back_whole(string sql)
    {
        var effects = SqlAnalysis.Of(sql).Effects;
        Assert.True(effects.SettingsChanged);
        Assert.False(effects.SettingsOnlyByName);
        Assert.Empty(effects.SetNames);
    }

    [Fact]
    public void Discard_all_drops_temp_objects_and_unlistens_the_engine()
    {
        var all = SqlAnalysis.Of("DISCARD ALL").Effects;
        Assert.True(all.DropsAllTemp && all.UnlistensEngine && all.SettingsChanged && all.TempObjectsChanged);
        var temp = SqlAnalysis.Of("discard temp").Effects;
        Assert.True(temp.DropsAllTemp);
        Assert.False(temp.UnlistensEngine);
    }

    [Fact]
    public void Listen_and_unlisten_are_per_client_and_the_engine_keeps_listening()
    {
        var analysis = SqlAnalysis.Of("LISTEN Jobs; LISTEN \"Mixed Case\"; UNLISTEN jobs; UNLISTEN *");
        Assert.Equal(["jobs", "Mixed Case"], analysis.Effects.Listen);
        Assert.Equal(["jobs"], analysis.Effects.Unlisten);
        Assert.True(analysis.Effects.UnlistenAll);
        Assert.Equal("LISTEN Jobs; LISTEN \"Mixed Case\"; UNLISTEN zeropg_noop_channel; UNLISTEN zeropg_noop_channel", analysis.Rewrite(42, null));
    }

    [Theory]
    [InlineData("PREPARE Q1 AS select 1", "PREPARE zp42_q1 AS select 1")]
    [InlineData("execute \"Q1\"(5)", "execute \"zp42_Q1\"(5)")]
    [InlineData("DEALLOCATE PREPARE q1", "DEALLOCATE PREPARE zp42_q1")]
    [InlineData("deallocate all", "deallocate all")]
    [InlineData("PREPARE TRANSACTION 'gid'", "PREPARE TRANSACTION 'gid'")]
    [InlineData("prepare transaction as select 1", "prepare zp42_transaction as select 1")]
    public void Sql_prepared_statement_names_get_the_clients_prefix(string sql, string expected) => Assert.Equal(expected, Rewrite(sql));

    [Theory]
    [InlineData("select name from pg_prepared_statements order by 1", "select name from {0} AS pg_prepared_statements order by 1")]
    [InlineData("select p.name from pg_catalog.pg_prepared_statements p", "select p.name from {0} p")]
    [InlineData("select count(*) from pg_prepared_statements as s where s.from_sql", "select count(*) from {0} as s where s.from_sql")]
    [InlineData("select pg_prepared_statements.name from pg_prepared_statements", "select pg_prepared_statements.name from {0} AS pg_prepared_statements")]
    public void Pg_prepared_statements_becomes_the_clients_own(string sql, string expected)
    {
        var analysis = SqlAnalysis.Of(sql);
        Assert.True(analysis.ReadsPreparedStatements);
        Assert.Equal(string.Format(expected, SqlEdit.PreparedStatementsSql), Rewrite(sql));
    }

    [Theory]
    [InlineData("select pg_backend_pid()", "select (SELECT 42::pg_catalog.int4 AS pg_backend_pid)")]
    [InlineData("select pid from pg_catalog.pg_stat_activity where pid <> pg_backend_pid()",
        "select pid from {0} AS pg_stat_activity where pid <> (SELECT 42::pg_catalog.int4 AS pg_backend_pid)")]
    [InlineData("select a.pid from pg_stat_activity a", "select a.pid from {0} a")]
    public void The_backend_pid_is_the_clients(string sql, string expected)
        => Assert.Equal(string.Format(expected, "(SELECT a.datid, a.datname, CASE WHEN a.pid OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid() THEN 42 ELSE a.pid END AS pid, a.leader_pid, a.usesysid, a.usename, a.application_name, a.client_addr, a.client_hostname, a.client_port, a.backend_start, a.xact_start, a.query_start, a.state_change, a.wait_event_type, a.wait_event, a.state, a.backend_xid, a.backend_xmin, a.query_id, a.query, a.backend_type FROM pg_catalog.pg_stat_activity a)"), Rewrite(sql));

    [Theory]
    [InlineData("SELECT pg_advisory_lock(1)", "SELECT pg_temp.pg_advisory_lock(42, 1)")]
    [InlineData("select pg_catalog.pg_try_advisory_lock_shared(1, 2)", "select pg_temp.pg_try_advisory_lock_shared(42, 1, 2)")]
    [InlineData("select PG_ADVISORY_UNLOCK_ALL()", "select pg_temp.pg_advisory_unlock_all(42)")]
    public void Session_advisory_lock_calls_become_per_client(string sql, string expected)
    {
        Assert.True(SqlAnalysis.Of(sql).Effects.UsesAdvisoryLocks);
        Assert.Equal(expected, Rewrite(sql));
    }

    [Theory]
    [InlineData("SELECT pg_logical_emit_message(true, 'p', 'c')", "SELECT zeropg_repl.pg_logical_emit_message(true, 'p', 'c')", true)]
    [InlineData("select pg_catalog.pg_logical_emit_message(false, 'p', 'c')", "select zeropg_repl.pg_logical_emit_message(false, 'p', 'c')", true)]
    [InlineData("select zeropg_repl.pg_logical_emit_message(false, 'p', 'c')", "select zeropg_repl.pg_logical_emit_message(false, 'p', 'c')", false)]
    [InlineData("select 'pg_logical_emit_message(x)'", "select 'pg_logical_emit_message(x)'", false)]
    public void Logical_messages_go_to_the_replication_capture(string sql, string expected, bool emits)
    {
        Assert.Equal(emits, SqlAnalysis.Of(sql).Effects.EmitsLogicalMessages);
        Assert.Equal(expected, Rewrite(sql));
    }

    [Theory]
    [InlineData("CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$BEGIN PERFORM pg_logical_emit_message(true, 'p', 'c'); END$$",
        "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$BEGIN PERFORM zeropg_repl.pg_logical_emit_message(true, 'p', 'c'); END$$", true)]
    [InlineData("create or replace function f() returns pg_lsn language sql as 'select pg_catalog.pg_logical_emit_message (false, ''p'', ''c'')'",
        "create or replace function f() returns pg_lsn language sql as 'select zeropg_repl.pg_logical_emit_message(false, ''p'', ''c'')'", true)]
    [InlineData("DO $x$ BEGIN PERFORM pg_logical_emit_message(true, 'a', 'b'); PERFORM my.pg_logical_emit_message(1); END $x$",
        "DO $x$ BEGIN PERFORM zeropg_repl.pg_logical_emit_message(true, 'a', 'b'); PERFORM my.pg_logical_emit_message(1); END $x$", true)]
    [InlineData("SELECT $$pg_logical_emit_message(true, 'a', 'b')$$", "SELECT $$pg_logical_emit_message(true, 'a', 'b')$$", false)]
    public void Logical_messages_in_routine_bodies_and_DO_blocks_go_to_the_capture_too(string sql, string expected, bool emits)
    {
        Assert.Equal(emits, SqlAnalysis.Of(sql).Effects.EmitsLogicalMessages);
        Assert.Equal(expected, Rewrite(sql));
    }

    [Theory]
    [InlineData("SET TRANSACTION SNAPSHOT '00000003-0000001B-1'", "00000003-0000001B-1")]
    [InlineData("set transaction snapshot 'it''s';", "it's")]
    [InlineData("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", null)]
    public void Set_transaction_snapshot_is_found_with_its_name(string sql, string? name)
    {
        var analysis = SqlAnalysis.Of(sql);
        Assert.Equal(name is not null, analysis.Effects.ImportsSnapshot);
        Assert.Equal(name, analysis.Edits.SingleOrDefault(e => e.Kind == SqlEditKind.TransactionSnapshot).Text);
        Assert.Equal(sql, Rewrite(sql)); // without a session, the statement stays as written (the engine's own error)
    }

    [Fact]
    public void Transaction_level_advisory_locks_are_postgres_own()
    {
        var analysis = SqlAnalysis.Of("select pg_advisory_xact_lock(1)");
        Assert.False(analysis.Effects.UsesAdvisoryLocks);
        Assert.Same(analysis.Sql, analysis.Rewrite(42, null));
    }

    [Fact]
    public void Pg_listening_channels_shows_the_clients_own_channels()
        => Assert.Equal("select c from unnest(ARRAY['a''b', 'z']::text[]) c", Rewrite("select c from pg_catalog.pg_listening_channels() c", "z", "a'b"));

    [Theory]
    [InlineData("create temp table t (a int)")]
    [InlineData("CREATE TEMPORARY VIEW v AS select 1")]
    [InlineData("drop table t")]
    public void Temp_object_changes_are_noted(string sql) => Assert.True(SqlAnalysis.Of(sql).Effects.TempObjectsChanged);

    [Theory]
    [InlineData("CREATE EXTENSION pgcrypto", "pgcrypto")]
    [InlineData("create extension if not exists \"uuid-ossp\"", "uuid-ossp")]
    [InlineData("ALTER EXTENSION vector UPDATE", "vector")]
    [InlineData("DO $$ BEGIN CREATE EXTENSION IF NOT EXISTS citext; END $$", "citext")]
    public void Extension_statements_name_their_extension(string sql, string name) => Assert.Equal([name], SqlAnalysis.Of(sql).Effects.Extensions);

    [Fact]
    public void Sql_without_extension_statements_names_none() => Assert.Empty(SqlAnalysis.Of("select 'extension'").Effects.Extensions);
}
