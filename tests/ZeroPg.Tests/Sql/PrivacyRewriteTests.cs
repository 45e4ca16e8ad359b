using ZeroPg.Sql;

namespace ZeroPg.Tests.Sql;

/// <summary>The rewrites that keep a client's cursors, temp relations and files private, on the SQL text alone.</summary>
public sealed class PrivacyRewriteTests
{
    private static string Rewrite(string sql) => SqlAnalysis.Of(sql).Rewrite(42, () => []);

    [Theory]
    [InlineData("DECLARE c CURSOR WITH HOLD FOR SELECT 1", "DECLARE zp42_c CURSOR WITH HOLD FOR SELECT 1")]
    [InlineData("FETCH NEXT FROM c", "FETCH NEXT FROM zp42_c")]
    [InlineData("fetch 5 in \"My C\";", "fetch 5 in \"zp42_My C\";")]
    [InlineData("MOVE ABSOLUTE -1 c", "MOVE ABSOLUTE -1 zp42_c")]
    [InlineData("CLOSE C", "CLOSE zp42_c")]
    [InlineData("UPDATE t SET x = 1 WHERE CURRENT OF c", "UPDATE t SET x = 1 WHERE CURRENT OF zp42_c")]
    [InlineData("FETCH ALL FROM \"<unnamed portal 1>\"", "FETCH ALL FROM \"<unnamed portal 1>\"")]
    public void Cursor_names_are_the_clients_own(string sql, string expected) => Assert.Equal(expected, Rewrite(sql));

    [Fact]
    public void Close_all_closes_only_the_clients_cursors()
    {
        var sql = Rewrite("CLOSE ALL");
        Assert.StartsWith("DO $zeropg$", sql);
        Assert.Contains("starts_with(name, 'zp42_')", sql);
        Assert.True(SqlAnalysis.Of("DECLARE c CURSOR FOR SELECT 1").Effects.DeclaresCursor);
    }

    [Theory]
    [InlineData("SELECT relname FROM pg_class WHERE relkind = 'r'", "pg_class")]
    [InlineData("SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace", "pg_class")]
    [InlineData("SELECT * FROM pg_tables", "pg_tables")]
    [InlineData("SELECT table_name FROM information_schema.tables", "information_schema.tables")]
    [InlineData("SELECT column_name FROM information_schema.columns c WHERE c.table_name = 't'", "information_schema.columns")]
    [InlineData("SELECT typname FROM pg_catalog.pg_type", "pg_type")]
    [InlineData("SELECT indexname FROM pg_indexes WHERE tablename = 't'", "pg_indexes")]
    [InlineData("SELECT relname, n_live_tup FROM pg_stat_user_tables", "pg_stat_user_tables")]
    public void Catalogs_listing_relations_leave_out_other_clients_temp_relations(string sql, string relation)
    {
        var rewritten = Rewrite(sql);
        Assert.Contains("zp[0-9]+_|zeropg_internal)'", rewritten);
        Assert.Equal(1, rewritten.Split("FROM (SELECT ").Length - 1);
        Assert.Contains(relation.Split('.')[^1], rewritten);
    }

    [Fact]
    public void Pg_class_keeps_the_system_columns_the_text_names_after_its_own()
    {
        var rewritten = Rewrite("SELECT c.tableoid, c.oid, c.xmin FROM pg_class c");
        Assert.Contains("(SELECT r.*, r.tableoid, r.xmin FROM pg_catalog.pg_class r WHERE", rewritten);
        Assert.StartsWith("SELECT c.* FROM (SELECT r.* FROM pg_catalog.pg_class r WHERE", Rewrite("SELECT c.* FROM pg_class c"));
        Assert.StartsWith("SELECT * FROM (SELECT r.* FROM information_schema.tables r WHERE", Rewrite("SELECT * FROM information_schema.tables WHERE xmin = 1"));
    }

    [Fact]
    public void Catalogs_listing_zeropgs_objects_leave_them_out()
    {
        var namespaces = Rewrite("SELECT nspname FROM pg_catalog.pg_namespace");
        Assert.Contains("to_regnamespace('zeropg_repl')", namespaces);
        Assert.Contains("'^pg_(toast_)?temp_'", namespaces); // no temp schema before the client made a temp object
        Assert.Contains("'^zeropg_'", Rewrite("SELECT tgname FROM pg_trigger"));
        Assert.Contains("zeropg_internal|pg_(try_)?advisory_", Rewrite("SELECT proname FROM pg_proc"));
        var depend = Rewrite("SELECT * FROM pg_depend d");
        Assert.StartsWith("SELECT * FROM (WITH zph AS MATERIALIZED", depend); // the hidden objects, once per statement
        Assert.EndsWith(") d", depend);
    }

    [Theory]
    [InlineData("SELECT pg_my_temp_schema()", "SELECT (SELECT 0::pg_catalog.oid AS pg_my_temp_schema)")]
    [InlineData("SELECT pg_catalog.pg_my_temp_schema() = 0", "SELECT (SELECT 0::pg_catalog.oid AS pg_my_temp_schema) = 0")]
    [InlineData("SELECT my.pg_my_temp_schema()", "SELECT my.pg_my_temp_schema()")]
    public void Pg_my_temp_schema_is_zero_for_a_client_without_temp_objects(string sql, string expected) => Assert.Equal(expected, Rewrite(sql));

    [Theory]
    [InlineData("CREATE INDEX i ON scratch(x)", true)]
    [InlineData("create unique index i on scratch(x)", true)]
    [InlineData("ALTER TABLE scratch ADD PRIMARY KEY (x)", true)]
    [InlineData("SELECT 1", false)]
    public void An_index_or_constraint_may_be_a_temp_relation(string sql, bool temp) => Assert.Equal(temp, SqlAnalysis.Of(sql).Effects.TempObjectsChanged);

    [Theory]
    [InlineData("DELETE FROM pg_description WHERE objoid = 1")]
    [InlineData("VACUUM pg_class")]
    [InlineData("SELECT 'pg_class'::regclass")]
    [InlineData("SELECT pg_class.oid FROM x pg_class")]
    [InlineData("SELECT * FROM myschema.pg_type")]
    [InlineData("SELECT * FROM information_schema.schemata_not_a_view")]
    public void Other_mentions_of_the_catalogs_stay(string sql) => Assert.Same(sql, SqlAnalysis.Of(sql).Rewrite(42, () => []));

    [Theory]
    [InlineData("SELECT * FROM pg_temp_0.zp1787_secret_tmp", new[] { 1787 })]
    [InlineData("SELECT nextval('zp1787_secret_seq')", new[] { 1787 })]
    [InlineData("DO $$BEGIN EXECUTE 'TRUNCATE \"ZP99_x\"'; END$$", new[] { 99 })]
    [InlineData("FETCH zp1787_c", new int[0])]
    [InlineData("SELECT * FROM my_zp1_table", new int[0])]
    public void Aside_names_of_temp_relations_are_found(string sql, int[] pids) => Assert.Equal(pids, SqlAnalysis.Of(sql).Refusals.AsideNamePids);

    [Theory]
    [InlineData("COPY t TO '/pglite/data/.zeropg.json'", true)]
    [InlineData("COPY t FROM E'/etc/passwd'", true)]
    [InlineData("COPY (SELECT * FROM t) TO '/x'", true)]
    [InlineData("SELECT pg_read_file('postgresql.conf')", true)]
    [InlineData("SELECT * FROM pg_ls_dir('.')", true)]
    [InlineData("SELECT lo_import('/x')", true)]
    [InlineData("ALTER SYSTEM SET work_mem = '1GB'", true)]
    [InlineData("DO $$BEGIN PERFORM pg_stat_file('PG_VERSION'); END$$", true)]
    [InlineData("COPY t TO STDOUT", false)]
    [InlineData("COPY t FROM STDIN WITH (FORMAT csv)", false)]
    [InlineData("SELECT 'please copy to $5'", false)]
    [InlineData("SELECT lo_create(0)", false)]
    public void Server_file_access_is_found(string sql, bool reaches) => Assert.Equal(reaches, SqlAnalysis.Of(sql).Refusals.ReachesServerFiles);

    [Fact]
    public void Terminate_and_cancel_keep_their_argument_and_column_name()
    {
        var sql = Rewrite("SELECT pg_terminate_backend(pid, 1000) FROM pg_stat_activity WHERE pid <> pg_backend_pid()");
        Assert.Contains("END AS pg_terminate_backend FROM (SELECT (pid)::pg_catalog.int4 AS p) AS zp)", sql);
        Assert.Contains("(SELECT 42::pg_catalog.int4 AS pg_backend_pid)", sql);
        Assert.True(SqlAnalysis.Of("select pg_cancel_backend(1)").SignalsBackends);
    }
}
