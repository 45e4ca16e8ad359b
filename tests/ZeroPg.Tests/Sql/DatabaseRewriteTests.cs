using ZeroPg.Sql;

namespace ZeroPg.Tests.Sql;

/// <summary>
/// The rewrites that show a client every database of the server (pg_database, pg_database_size, has_database_privilege), on the
/// SQL text alone with a fixed list of other databases; what they return is tested with psql and Npgsql in Databases/DatabaseListingTests.
/// </summary>
public sealed class DatabaseRewriteTests
{
    private sealed class TwoOthers : ISqlSessionView
    {
        public string ActivityRows() => "VALUES (1)";
        public string ClientPids() => "'{}'::pg_catalog.int4[]";
        public string DeniedPids() => "'{}'::pg_catalog.int4[]";
        public string OtherDatabases() => "(16385::pg_catalog.oid, E'app'::pg_catalog.name)";
        public string OtherDatabaseKeys() => "ARRAY[E'app', '16385']::pg_catalog.text[]";
        public string OtherDatabaseSizes() => "(E'app'::pg_catalog.text, 7000000::pg_catalog.int8)";
        public string ActiveSlots() => "'{}'::pg_catalog.jsonb";
        public string OtherSlots() => "";
        public string StatReplication() => ZeroPg.Replication.Slots.StatReplication.Sql([]);
        public string? SnapshotImport(string name) => null;
    }

    private static string Rewrite(string sql) => SqlAnalysis.Of(sql).Rewrite(42, () => [], view: new TwoOthers());

    [Theory]
    [InlineData("SELECT datname FROM pg_database", " AS pg_database")]
    [InlineData("SELECT d.datname FROM pg_catalog.pg_database d ORDER BY 1", " d ORDER BY 1")]
    [InlineData("SELECT 1 FROM t, pg_database WHERE true", " AS pg_database WHERE true")]
    public void Pg_database_read_as_a_relation_lists_the_other_databases_too(string sql, string after)
    {
        var rewritten = Rewrite(sql);
        Assert.Contains("VALUES (16385::pg_catalog.oid, E'app'::pg_catalog.name)", rewritten);
        Assert.Contains("d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()", rewritten);
        Assert.EndsWith(")" + after, rewritten);
        Assert.DoesNotContain("daticulocale", rewritten);
    }

    [Fact]
    public void Columns_older_clients_name_are_added_only_when_named()
    {
        // psql 15's \l reads daticulocale (PostgreSQL 17 renamed it datlocale); pg_dump reads tableoid.
        var rewritten = Rewrite("SELECT d.daticulocale, d.tableoid FROM pg_catalog.pg_database d");
        Assert.Contains("d.datlocale AS daticulocale, d.tableoid", rewritten);
        Assert.Contains("r.datlocale AS daticulocale, d.tableoid", rewritten);
    }

    [Theory]
    [InlineData("UPDATE pg_database SET datallowconn = true WHERE datname = 'x'")]
    [InlineData("DELETE FROM pg_database WHERE datname = 'x'")]
    [InlineData("SELECT 'pg_database'::regclass")]
    [InlineData("GRANT SELECT ON pg_database TO app")]
    public void Other_mentions_of_pg_database_stay(string sql) => Assert.Same(sql, SqlAnalysis.Of(sql).Rewrite(42, () => [], view: new TwoOthers()));

    [Fact]
    public void Pg_database_size_answers_for_the_other_databases_and_keeps_the_argument_as_written()
    {
        var analysis = SqlAnalysis.Of("SELECT pg_catalog.pg_database_size(d.datname) FROM pg_database d");
        Assert.True(analysis.Effects.ReadsDatabaseSizes);
        var rewritten = analysis.Rewrite(42, () => [], view: new TwoOthers());
        Assert.Contains("(SELECT CASE WHEN zp.d::pg_catalog.text OPERATOR(pg_catalog.=) ANY (ARRAY[E'app', '16385']::pg_catalog.text[]) THEN"
            + " (SELECT v.s FROM (VALUES (E'app'::pg_catalog.text, 7000000::pg_catalog.int8)) AS v(k, s)", rewritten);
        Assert.Contains("ELSE pg_catalog.pg_database_size(zp.d) END AS pg_database_size FROM (SELECT (d.datname) AS d) AS zp) FROM (SELECT", rewritten);
    }

    [Theory]
    [InlineData("SELECT has_database_privilege('app', 'CONNECT')", "(SELECT ('app') AS d, ( 'CONNECT') AS p) AS zp)", "has_database_privilege('postgres', zp.p)")]
    [InlineData("SELECT has_database_privilege(current_user, 'app', 'CREATE')", "(SELECT (current_user) AS u, ( 'app') AS d, ( 'CREATE') AS p) AS zp)",
        "has_database_privilege(zp.u, 'postgres', zp.p)")]
    public void Has_database_privilege_answers_as_postgres_does_for_the_other_databases(string sql, string arguments, string forOthers)
    {
        var rewritten = Rewrite(sql);
        Assert.Contains(arguments, rewritten);
        Assert.Contains(forOthers, rewritten);
        Assert.False(SqlAnalysis.Of(sql).Effects.ReadsDatabaseSizes);
    }

    [Theory]
    [InlineData("SELECT pg_database_size()")]
    [InlineData("SELECT has_database_privilege('x')")]
    [InlineData("SELECT myschema.pg_database_size('x')")]
    public void Calls_without_a_database_argument_stay(string sql) => Assert.Same(sql, SqlAnalysis.Of(sql).Rewrite(42, () => [], view: new TwoOthers()));
}
