using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

[Collection(ServerCollection.Name)]
public class SqlPrepareIsolationTests(ServerFixture fixture)
{
    [Fact]
    public async Task Sql_prepare_names_are_per_client()
    {
        await using var a = await fixture.OpenAsync();
        await using var b = await fixture.OpenAsync();
        await a.ScalarAsync("PREPARE who AS SELECT 'a'::text");
        await b.ScalarAsync("PREPARE who AS SELECT 'b'::text");
        Assert.Equal("a", await a.ScalarAsync("EXECUTE who"));
        Assert.Equal("b", await b.ScalarAsync("EXECUTE who"));

        await b.ScalarAsync("DEALLOCATE who");
        var error = await Assert.ThrowsAsync<PostgresException>(() => b.ScalarAsync("EXECUTE who"));
        Assert.Equal("26000", error.SqlState);
        Assert.Equal("a", await a.ScalarAsync("EXECUTE who"));

        var duplicate = await Assert.ThrowsAsync<PostgresException>(() => a.ScalarAsync("PREPARE who AS SELECT 1"));
        Assert.Equal("42P05", duplicate.SqlState);
    }
}
