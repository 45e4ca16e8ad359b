using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

[Collection(ServerCollection.Name)]
public class TempTableIsolationTests(ServerFixture fixture)
{
    [Fact]
    public async Task Each_client_has_its_own_temp_table_of_the_same_name()
    {
        await using var a = await fixture.OpenAsync();
        await using var b = await fixture.OpenAsync();
        await a.ScalarAsync("CREATE TEMP TABLE scratch(id serial PRIMARY KEY, who text); INSERT INTO scratch(who) VALUES ('a')");
        var missing = await Assert.ThrowsAsync<PostgresException>(() => b.ScalarAsync("SELECT count(*) FROM scratch"));
        Assert.Equal("42P01", missing.SqlState);

        await b.ScalarAsync("CREATE TEMP TABLE scratch(id serial PRIMARY KEY, who text); INSERT INTO scratch(who) VALUES ('b'), ('b')");
        Assert.Equal("a", await a.ScalarAsync("SELECT string_agg(who, ',') FROM scratch"));
        Assert.Equal("b,b", await b.ScalarAsync("SELECT string_agg(who, ',') FROM scratch"));
        Assert.Equal(1L, await a.ScalarAsync("SELECT count(*) FROM pg_temp.scratch"));
    }

    [Fact]
    public async Task A_clients_temp_tables_are_dropped_when_it_disconnects()
    {
        await using (var a = await fixture.OpenAsync())
            await a.ScalarAsync("CREATE TEMP TABLE leaving(x int); INSERT INTO leaving VALUES (1)");
        await using var b = await fixture.OpenAsync();
        await Eventually.WaitUntilAsync(async () => (long)(await b.ScalarAsync("SELECT count(*) FROM pg_class WHERE relname LIKE '%leaving'"))! == 0,
            "the leaving client's temp table dropped", TimeSpan.FromSeconds(2));
        await b.ScalarAsync("CREATE TEMP TABLE leaving(y text)");
        Assert.Equal(0L, await b.ScalarAsync("SELECT count(*) FROM leaving"));
    }
}
