using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Server;

[Collection(ServerCollection.Name)]
public sealed class SmokeTests(ServerFixture fixture)
{
    [Fact]
    public async Task Npgsql_runs_a_query_against_real_postgres_18()
    {
        await using var connection = await fixture.OpenAsync();
        await using var command = new NpgsqlCommand("select version()", connection);
        var version = (string)(await command.ExecuteScalarAsync())!;
        Assert.Contains("PostgreSQL 18", version);
        Assert.Contains("PGlite", version);
    }

    [Fact]
    public async Task Psql_connects_and_runs_queries()
    {
        var result = await ExternalTool.RunAsync("psql", [fixture.Url, "-XAt", "-v", "ON_ERROR_STOP=1", "-c", "select 40 + 2"]);
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Equal("42", result.Stdout.Trim());
    }
}
