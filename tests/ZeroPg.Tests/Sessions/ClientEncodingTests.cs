using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>
/// Encodings PGlite cannot convert (it ships none of Postgres's conversion modules) are refused with Postgres's
/// errors; before, one client's client_encoding or convert_to() killed or hung the engine every client shares.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class ClientEncodingTests(ServerFixture fixture)
{
    [Theory]
    [InlineData("BIG5")]
    [InlineData("WIN1252")]
    [InlineData("latin1")]
    public async Task A_client_starting_with_an_encoding_ZeroPg_cannot_convert_is_refused_and_nobody_else_is_touched(string encoding)
    {
        var psql = await ExternalTool.RunAsync("psql", [fixture.Url, "-XAt", "-c", "select 1"], timeout: TimeSpan.FromSeconds(30),
            environment: new Dictionary<string, string> { ["PGCLIENTENCODING"] = encoding });
        Assert.NotEqual(0, psql.ExitCode);
        Assert.Contains($"invalid value for parameter \"client_encoding\": \"{encoding}\"", psql.All);
        Assert.Contains("is not supported", psql.All);
        await AssertServesWithoutRestartAsync();
    }

    [Theory]
    [InlineData("UTF8")]
    [InlineData("utf-8")]
    [InlineData("SQL_ASCII")]
    public async Task A_client_starting_with_utf8_or_sql_ascii_is_served(string encoding)
    {
        var psql = await ExternalTool.RunAsync("psql", [fixture.Url, "-XAt", "-c", "select 'served'"], timeout: TimeSpan.FromSeconds(30),
            environment: new Dictionary<string, string> { ["PGCLIENTENCODING"] = encoding });
        Assert.True(psql.ExitCode == 0, psql.All);
        Assert.Equal("served", psql.Stdout.Trim());
    }

    [Theory]
    [InlineData("set client_encoding = 'BIG5'", "0A000")] // Postgres's own code: "Conversion between BIG5 and UTF8 is not supported."
    [InlineData("select set_config('client_encoding', 'LATIN1', false)", "0A000")]
    [InlineData("select convert_to('é', 'LATIN1')", "42883")]
    [InlineData("select convert_from('\\xe9'::bytea, 'WIN1252')", "42883")]
    public async Task Sql_that_needs_a_conversion_fails_like_postgres_without_it_and_the_engine_lives(string sql, string sqlState)
    {
        var restarts = fixture.Server.Metrics.EngineRestarts();
        await using var connection = await fixture.OpenAsync();
        await using (var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 30 })
        {
            var error = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteScalarAsync());
            Assert.Equal(sqlState, error.SqlState);
        }
        await using (var again = new NpgsqlCommand("select 'still usable'", connection))
            Assert.Equal("still usable", await again.ExecuteScalarAsync());
        Assert.Equal(restarts, fixture.Server.Metrics.EngineRestarts());
    }

    private async Task AssertServesWithoutRestartAsync()
    {
        var restarts = fixture.Server.Metrics.EngineRestarts();
        await using var connection = await fixture.OpenAsync();
        await using var command = new NpgsqlCommand("select 'still up'", connection) { CommandTimeout = 30 };
        Assert.Equal("still up", await command.ExecuteScalarAsync());
        Assert.Equal(restarts, fixture.Server.Metrics.EngineRestarts());
    }
}
