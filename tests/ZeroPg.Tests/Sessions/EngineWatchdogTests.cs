using System.Diagnostics;
using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>
/// The watchdog: a statement that runs longer than ZeroPgOptions.EngineWatchdog while others wait is cancelled in the
/// engine (57014 and a WARNING naming the watchdog); the engine lives and the waiting client is served. Alone, a long
/// statement is never touched.
/// </summary>
[Trait("Category", "Slow")]
public sealed class EngineWatchdogTests : IAsyncLifetime
{
    private ZeroPgServer _server = null!;

    public async Task InitializeAsync()
        => _server = await ZeroPgServer.StartAsync(new ZeroPgOptions { EngineWatchdog = TimeSpan.FromSeconds(2) }, TestLogging.Factory);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task An_endless_statement_is_cancelled_once_another_client_waits_and_that_client_is_served()
    {
        var engine = _server.EngineId;
        await using var hog = await OpenAsync();
        var warnings = new List<string>();
        hog.Notice += (_, e) => warnings.Add(e.Notice.MessageText);
        // Bounded, so a watchdog that never fires fails the test instead of hanging the run.
        await using var endless = new NpgsqlCommand("do $$ begin loop end loop; end $$", hog) { CommandTimeout = 120 };
        var running = endless.ExecuteNonQueryAsync();
        // The waiter must come once the loop holds the engine: sent earlier (say while ZeroPg still reads back the hog's
        // previous unit's settings) it is served first, nobody waits behind the loop, and (rightly) nothing cancels it.
        await Eventually.WaitUntilAsync(() => _server.Services.Registry.Sessions.Any(s => s.Activity.Current is { State: "active", WaitsForEngine: false } now
            && now.Query == endless.CommandText), "the hog's loop holding the engine");

        await using var waiter = await OpenAsync();
        var clock = Stopwatch.StartNew();
        await using var select = new NpgsqlCommand("select 'served'", waiter) { CommandTimeout = 60 };
        Assert.Equal("served", await select.ExecuteScalarAsync());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"the waiter waited {clock.Elapsed}");

        var error = await Assert.ThrowsAsync<PostgresException>(() => running);
        Assert.Equal("57014", error.SqlState);
        await Eventually.WaitUntilAsync(() => warnings.Any(w => w.Contains("watchdog", StringComparison.Ordinal)), "the watchdog's WARNING");
        Assert.Equal(engine, _server.EngineId);
        await using var again = new NpgsqlCommand("select 1", hog);
        Assert.Equal(1, await again.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_long_statement_alone_is_not_cancelled()
    {
        var engine = _server.EngineId;
        await using var connection = await OpenAsync();
        var notices = new List<string>();
        connection.Notice += (_, e) => notices.Add(e.Notice.MessageText);
        // Twice the watchdog's 2 s with nobody waiting: it runs to its end.
        await using var sleep = new NpgsqlCommand("select pg_sleep(4), 'finished'", connection) { CommandTimeout = 60 };
        await using (var reader = await sleep.ExecuteReaderAsync())
        {
            Assert.True(await reader.ReadAsync());
            Assert.Equal("finished", reader.GetString(1));
        }
        Assert.DoesNotContain(notices, n => n.Contains("watchdog", StringComparison.Ordinal));
        Assert.Equal(engine, _server.EngineId);
        await using var after = new NpgsqlCommand("select 'served'", connection);
        Assert.Equal("served", await after.ExecuteScalarAsync());
    }

    private async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(_server.GetConnectionString() + ";Pooling=false");
        await connection.OpenAsync();
        return connection;
    }
}
