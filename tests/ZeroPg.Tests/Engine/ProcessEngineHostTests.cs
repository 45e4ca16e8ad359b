using Npgsql;
using ZeroPg.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Engine;

/// <summary>
/// `--engine-host process` (and the default off Linux): each engine a node process of its own, its requests over the process's
/// stdin pipe. The rest of the suite runs the shared host; here the same paths run over a pipe: clients at once (whose requests
/// the engine's reader thread writes without waiting, NonBlockingPipe), a cancel inside the engine, and a killed engine that
/// comes back with its committed data.
/// </summary>
public sealed class ProcessEngineHostTests
{
    [Fact]
    public async Task An_engine_of_its_own_serves_clients_at_once_cancels_and_comes_back_after_a_kill()
    {
        using var directory = new TempDirectory();
        await using var server = await ZeroPgServer.StartAsync(
            new ZeroPgOptions { DataDirectory = directory.Sub("db"), EngineHost = EngineHostMode.Process }, TestLogging.Factory);
        var engine = server.RunningEngine!;
        Assert.False(engine.IsSharedHostWorker);
        Assert.True(engine.CancelsInEngine);
        await DataDirectoryTests.ExecuteAsync(server, "create table counter(client int, n int)");

        // Eight clients, each its own statements and a transaction: every answer is its own, every commit is there.
        var clients = Enumerable.Range(0, 8).Select(async client =>
        {
            await using var connection = await OpenAsync(server);
            for (var i = 0; i < 40; i++)
            {
                await using var select = new NpgsqlCommand("select $1::int * 1000 + $2::int", connection);
                select.Parameters.AddWithValue(client);
                select.Parameters.AddWithValue(i);
                Assert.Equal(client * 1000 + i, await select.ExecuteScalarAsync());
                await using var insert = new NpgsqlCommand($"begin; insert into counter values ({client}, {i}); commit", connection);
                await insert.ExecuteNonQueryAsync();
            }
        }).ToList();
        await Task.WhenAll(clients);
        Assert.Equal(320L, await DataDirectoryTests.ExecuteAsync(server, "select count(*) from counter"));

        // A cancel stops the query inside the engine, which goes on serving.
        await using (var sleeper = await OpenAsync(server))
        {
            await using var sleep = new NpgsqlCommand("select pg_sleep(30)", sleeper);
            var running = sleep.ExecuteNonQueryAsync();
            await Eventually.WaitUntilAsync(() => engine.HasCallsInFlight, "the sleep is in the engine", TimeSpan.FromSeconds(30));
            sleep.Cancel();
            var error = await Assert.ThrowsAsync<OperationCanceledException>(() => running);
            Assert.Equal("57014", Assert.IsType<PostgresException>(error.InnerException).SqlState);
            await using var after = new NpgsqlCommand("select 1", sleeper);
            Assert.Equal(1, await after.ExecuteScalarAsync());
        }
        Assert.Equal(engine.Id, server.EngineId);

        // Its process killed: another starts, with every commit.
        var killed = await EngineKill.KillAsync(server);
        await Eventually.WaitUntilAsync(() => server.EngineId is { } id && id != killed, "the engine restarted", TimeSpan.FromSeconds(60));
        Assert.Equal(320L, await DataDirectoryTests.ExecuteAsync(server, "select count(*) from counter"));
        Assert.False(server.RunningEngine!.IsSharedHostWorker);
    }

    private static async Task<NpgsqlConnection> OpenAsync(ZeroPgServer server)
    {
        var connection = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false;Timeout=60;Command Timeout=60");
        await connection.OpenAsync();
        return connection;
    }
}
