using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

[Collection(ServerCollection.Name)]
public sealed class SqlPrepareIsolationTests(ServerFixture fixture)
{
    private static async Task<object?> ScalarAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    [Fact]
    public async Task Sql_prepare_names_are_per_client()
    {
        await using var a = await fixture.OpenAsync();
        await using var b = await fixture.OpenAsync();
        await ScalarAsync(a, "PREPARE who AS SELECT 'a'::text");
        await ScalarAsync(b, "PREPARE who AS SELECT 'b'::text");
        Assert.Equal("a", await ScalarAsync(a, "EXECUTE who"));
        Assert.Equal("b", await ScalarAsync(b, "EXECUTE who"));

        await ScalarAsync(b, "DEALLOCATE who");
        var error = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync(b, "EXECUTE who"));
        Assert.Equal("26000", error.SqlState);
        Assert.Equal("a", await ScalarAsync(a, "EXECUTE who"));

        var duplicate = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync(a, "PREPARE who AS SELECT 1"));
        Assert.Equal("42P05", duplicate.SqlState);
    }
}
