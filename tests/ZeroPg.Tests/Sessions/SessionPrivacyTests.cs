using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>A client's session objects are its own, as in Postgres: another client can neither see nor reach them.</summary>
[Collection(ServerCollection.Name)]
public sealed class SessionPrivacyTests(ServerFixture fixture)
{
    private static async Task<int> PidAsync(NpgsqlConnection connection) => (int)(await connection.ScalarAsync("SELECT pg_backend_pid()"))!;

    [Fact]
    public async Task Another_clients_temp_relations_are_out_of_reach_by_their_aside_names()
    {
        await using var owner = await fixture.OpenAsync();
        await using var other = await fixture.OpenAsync();
        await owner.ExecAsync("CREATE TEMP TABLE secret_tmp(x text); INSERT INTO secret_tmp VALUES ('hidden');"
            + "CREATE TEMP VIEW secret_view AS SELECT x FROM secret_tmp; CREATE TEMP SEQUENCE secret_seq");
        var pid = await PidAsync(owner);
        await other.ScalarAsync("SELECT 1"); // the engine goes to the other client: the owner's relations are renamed aside

        foreach (var sql in new[]
        {
            $"SELECT x FROM pg_temp_0.zp{pid}_secret_tmp",
            $"SELECT x FROM pg_temp.zp{pid}_secret_tmp",
            $"SELECT x FROM zp{pid}_secret_tmp",
            $"INSERT INTO \"zp{pid}_secret_tmp\" VALUES ('planted')",
            $"SELECT * FROM zp{pid}_secret_view",
            $"SELECT nextval('zp{pid}_secret_seq')",
            $"DROP TABLE zp{pid}_secret_tmp CASCADE",
        })
        {
            var refused = await Assert.ThrowsAsync<PostgresException>(() => other.ScalarAsync(sql));
            Assert.Equal("0A000", refused.SqlState);
            Assert.Equal("cannot access temporary tables of other sessions", refused.MessageText);
        }
        Assert.Equal("hidden", await owner.ScalarAsync("SELECT string_agg(x, ',') FROM secret_tmp"));
        Assert.Equal(1L, await owner.ScalarAsync("SELECT nextval('secret_seq')"));
    }

    [Fact]
    public async Task Another_clients_temp_relations_are_not_listed_in_the_catalog()
    {
        await using var owner = await fixture.OpenAsync();
        await using var other = await fixture.OpenAsync();
        await owner.ExecAsync("CREATE TEMP TABLE listed_tmp(x int PRIMARY KEY); CREATE TEMP SEQUENCE listed_tmp_seq; CREATE TEMP VIEW listed_tmp_view AS SELECT x FROM listed_tmp");
        await other.ScalarAsync("SELECT 1");
        Assert.Equal(0L, await other.ScalarAsync("SELECT count(*) FROM pg_class WHERE relname LIKE '%listed_tmp%'"));
        foreach (var (catalog, name) in new[]
        {
            ("pg_type", "typname"), ("pg_indexes", "tablename"), ("pg_indexes", "indexname"), ("pg_sequences", "sequencename"),
            ("pg_views", "viewname"), ("pg_stat_user_tables", "relname"), ("pg_catalog.pg_stat_all_indexes", "relname"),
            ("pg_statio_user_tables", "relname"), ("information_schema.columns", "table_name"), ("information_schema.views", "table_name"),
            ("information_schema.sequences", "sequence_name"), ("information_schema.table_constraints", "table_name"),
        })
        {
            Assert.True(Equals(0L, await other.ScalarAsync($"SELECT count(*) FROM {catalog} WHERE {name} LIKE '%listed_tmp%'")), $"{catalog} lists another client's temp relation");
        }
        Assert.Equal(2L, await owner.ScalarAsync("SELECT count(*) FROM information_schema.columns WHERE table_name LIKE 'listed_tmp%'"));
        Assert.Equal(1L, await owner.ScalarAsync("SELECT count(*) FROM pg_indexes WHERE tablename = 'listed_tmp'"));
        Assert.Equal(0L, await other.ScalarAsync("SELECT count(*) FROM pg_catalog.pg_class c WHERE c.relname LIKE '%listed_tmp%'"));
        Assert.Equal(0L, await other.ScalarAsync("SELECT count(*) FROM pg_tables WHERE tablename LIKE '%listed_tmp%'"));
        Assert.Equal(0L, await other.ScalarAsync("SELECT count(*) FROM information_schema.tables WHERE table_name LIKE '%listed_tmp%'"));
        Assert.Equal(1L, await owner.ScalarAsync("SELECT count(*) FROM pg_class WHERE relname = 'listed_tmp'"));
        Assert.Equal(1L, await owner.ScalarAsync("SELECT count(*) FROM pg_tables WHERE tablename = 'listed_tmp'"));
    }

    [Fact]
    public async Task Two_clients_each_hold_a_cursor_of_the_same_name_and_reach_only_their_own()
    {
        await using var a = await fixture.OpenAsync();
        await using var b = await fixture.OpenAsync();
        await a.ExecAsync("DECLARE c CURSOR WITH HOLD FOR SELECT 'a' || g FROM generate_series(1, 3) g");
        await b.ExecAsync("DECLARE c CURSOR WITH HOLD FOR SELECT 'b' || g FROM generate_series(1, 3) g");
        Assert.Equal("a1", await a.ScalarAsync("FETCH NEXT FROM c"));
        Assert.Equal("b1", await b.ScalarAsync("FETCH c"));
        await b.ExecAsync("MOVE FORWARD 1 IN c");
        Assert.Equal("a2", await a.ScalarAsync("FETCH FORWARD 1 FROM c"));
        Assert.Equal("b3", await b.ScalarAsync("FETCH NEXT FROM c"));

        Assert.Equal("c", await a.ScalarAsync("SELECT string_agg(name, ',') FROM pg_cursors"));
        Assert.Equal("DECLARE c CURSOR WITH HOLD FOR SELECT 'a' || g FROM generate_series(1, 3) g",
            await a.ScalarAsync("SELECT statement FROM pg_catalog.pg_cursors WHERE name = 'c'"));

        await a.ExecAsync("CLOSE c");
        var gone = await Assert.ThrowsAsync<PostgresException>(() => a.ScalarAsync("FETCH c"));
        Assert.Equal("34000", gone.SqlState);
        Assert.Equal("cursor \"c\" does not exist", gone.MessageText);
        Assert.Equal(0L, await a.ScalarAsync("SELECT count(*) FROM pg_cursors"));
        Assert.Equal(1L, await b.ScalarAsync("SELECT count(*) FROM pg_cursors"));

        await a.ExecAsync("CLOSE ALL");
        Assert.Equal(1L, await b.ScalarAsync("SELECT count(*) FROM pg_cursors WHERE name = 'c'"));
        var bPid = await PidAsync(b);
        var refused = await Assert.ThrowsAsync<PostgresException>(() => a.ScalarAsync($"FETCH ALL FROM zp{bPid}_c"));
        Assert.Equal("34000", refused.SqlState);
    }

    [Fact]
    public async Task A_clients_hold_cursors_are_closed_when_it_disconnects()
    {
        int pid;
        await using (var a = await fixture.OpenAsync())
        {
            pid = await PidAsync(a);
            await a.ExecAsync("DECLARE kept CURSOR WITH HOLD FOR SELECT 1; DECLARE \"Kept Too\" CURSOR WITH HOLD FOR SELECT 2");
            Assert.Equal(2L, await EngineProbe.CountAsync(fixture.Server, $"SELECT count(*) FROM pg_catalog.pg_cursors WHERE name LIKE 'zp{pid}%'"));
        }
        await Eventually.WaitUntilAsync(async () => await EngineProbe.CountAsync(fixture.Server,
            $"SELECT count(*) FROM pg_catalog.pg_cursors WHERE name LIKE 'zp{pid}%'") == 0, "the departed client's cursors are closed");
    }

    [Fact]
    public async Task Pg_listening_channels_shows_only_the_clients_own_channels()
    {
        await using var a = await fixture.OpenAsync();
        await using var b = await fixture.OpenAsync();
        await a.ExecAsync("LISTEN alpha_only");
        await b.ExecAsync("LISTEN beta_only");
        Assert.Equal("alpha_only", await a.ScalarAsync("SELECT string_agg(c, ',') FROM pg_listening_channels() c"));
        Assert.Equal("beta_only", await b.ScalarAsync("SELECT string_agg(c, ',') FROM pg_catalog.pg_listening_channels() c"));
    }
}
