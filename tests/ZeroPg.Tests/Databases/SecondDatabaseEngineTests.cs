using System.Diagnostics;
using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Databases;

/// <summary>Cancel and extensions in a database other than postgres (its own engine).</summary>
[Collection(SecondDatabaseCollection.Name)]
public sealed class SecondDatabaseEngineTests(SecondDatabaseFixture fixture)
{
    [Fact]
    public async Task A_cancel_stops_a_query_in_the_second_database_and_the_connection_goes_on()
    {
        await using var connection = await fixture.OpenAsync();
        Assert.Equal(SecondDatabaseFixture.Database, await connection.TextAsync("select current_database()"));
        await using var command = new NpgsqlCommand("select pg_sleep(10)", connection);
        var clock = Stopwatch.StartNew();
        var running = command.ExecuteNonQueryAsync();
        await EngineProbe.StatementRunningAsync(fixture.Server, command.CommandText);
        command.Cancel();
        var cancelled = await Assert.ThrowsAnyAsync<Exception>(() => running);
        var error = cancelled as PostgresException ?? cancelled.InnerException as PostgresException;
        Assert.Equal("57014", error?.SqlState);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the cancel took {clock.Elapsed}");
        Assert.Equal("1", await connection.TextAsync("select 1"));
    }

    [Fact]
    public async Task An_extension_is_created_and_used_in_the_second_database()
    {
        await using var connection = await fixture.OpenAsync();
        await connection.ExecAsync("create extension if not exists citext");
        Assert.Equal("True", await connection.TextAsync("select 'ABC'::citext = 'abc'::citext"));
    }
}
