using System.Diagnostics;
using Npgsql;
using Xunit.Abstractions;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Engine;

/// <summary>
/// The fallback of a cancel (ZeroPgOptions.CancelRestartAfter): a statement that does not stop after its cancel is
/// stopped by restarting the engine, and its client gets 57014 as an ERROR and stays, its session restored. Every
/// query PGlite runs stops at its own interrupt checks, so these tests start an engine host that ignores cancels
/// (ZEROPG_TEST_IGNORE_CANCEL=1, a test-only switch in engine-host/interrupts.mjs); the server's path is the real one.
/// </summary>
[Trait("Category", "Slow")]
public sealed class CancelRestartTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(1);

    public static TheoryData<string> Storage => new() { "memory", "disk" };

    [Theory]
    [MemberData(nameof(Storage))]
    public async Task A_statement_that_ignores_its_cancel_is_stopped_by_a_restart_and_its_client_stays(string storage)
    {
        using var directory = new TempDirectory();
        await using var server = await ZeroPgServer.StartAsync(Options(storage, directory), TestLogging.Factory);
        var engine = server.EngineId;
        await using var client = await OpenAsync(server);
        await using var other = await OpenAsync(server);
        await client.ExecAsync("create table kept(x int); insert into kept values (1); set work_mem = '7MB'");
        await using var prepared = new NpgsqlCommand("select $1::int + 1", client);
        prepared.Parameters.AddWithValue(41);
        await prepared.PrepareAsync();
        Assert.Equal(42, await prepared.ExecuteScalarAsync());

        await using var sleep = new NpgsqlCommand("select pg_sleep(60)", client) { CommandTimeout = 120 };
        var running = sleep.ExecuteScalarAsync();
        await EngineProbe.RunningAsync(server);
        var queued = other.ScalarAsync("select 5", commandTimeout: 120); // waits behind the stuck statement
        var clock = Stopwatch.StartNew();
        sleep.Cancel();
        if (storage == "memory")
        {
            // Its database's data died with the engine: the client is ended, as every other that used it (issue 66).
            var ended = Assert.IsType<PostgresException>(await Record.ExceptionAsync(() => running));
            Assert.Equal("57P01", ended.SqlState);
            Assert.Contains("in-memory database was reset", ended.MessageText);
            Assert.Contains("did not stop within", ended.Detail);
            Assert.Equal(5, await queued); // the other client had not used the old engine: it is served by the new one
            return;
        }
        var error = await CancelledAsync(running);
        output.WriteLine($"CancelRequest to the client's error, through a restart: {clock.ElapsedMilliseconds} ms");
        Assert.Equal("57014", error.SqlState);
        Assert.Equal("ERROR", error.Severity);
        Assert.Equal("canceling statement due to user request", error.MessageText);
        Assert.Contains("restarted the PGlite engine", error.Hint);
        Assert.Contains("Committed data is kept", error.Hint);
        Assert.InRange(clock.Elapsed, Bound * 0.9, TimeSpan.FromSeconds(30));

        Assert.Equal(1, server.Services.Engine.Restarts);
        Assert.NotEqual(engine, server.EngineId);
        Assert.Equal(5, await queued); // the other client is served by the new engine
        // The same connection goes on with its session: its setting, its prepared statement (prepared again).
        Assert.Equal("7MB", await client.ScalarAsync("show work_mem", commandTimeout: 120));
        Assert.Equal(42, await prepared.ExecuteScalarAsync());
        Assert.Equal(1L, await client.ScalarAsync("select count(*) from kept", commandTimeout: 120)); // committed before: kept
    }

    [Fact]
    public async Task A_statement_timeout_the_engine_ignores_is_answered_with_its_own_error_after_a_restart()
    {
        using var directory = new TempDirectory(); // on memory:// the client would be ended: its data died with the engine
        await using var server = await ZeroPgServer.StartAsync(Options("disk", directory), TestLogging.Factory);
        await using var client = await OpenAsync(server);
        await client.ExecAsync("set statement_timeout = '300ms'");
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<PostgresException>(() => client.ScalarAsync("select pg_sleep(60)", commandTimeout: 120));
        output.WriteLine($"statement timeout through a restart: {clock.ElapsedMilliseconds} ms");
        Assert.Equal("57014", error.SqlState);
        Assert.Equal("canceling statement due to statement timeout", error.MessageText);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(300) + Bound * 0.9, TimeSpan.FromSeconds(30));
        Assert.Equal(1, server.Services.Engine.Restarts);
        Assert.Equal("300ms", await client.ScalarAsync("show statement_timeout", commandTimeout: 120));
    }

    [Fact]
    public async Task A_transaction_whose_statement_was_stopped_by_a_restart_is_failed_until_rollback()
    {
        using var directory = new TempDirectory();
        await using var server = await ZeroPgServer.StartAsync(Options("disk", directory), TestLogging.Factory);
        await using var client = await RawProtocolClient.ConnectAsync(server);
        await client.Query("BEGIN").FlushAsync();
        await client.ReadUntilReadyAsync();
        await client.Query("SELECT pg_sleep(60)").FlushAsync();
        await EngineProbe.RunningAsync(server);
        await using (var canceller = await RawProtocolClient.ConnectWithoutStartupAsync(server))
            await canceller.CancelRequest(client.BackendKey).FlushAsync();
        var reply = await client.ReadUntilReadyAsync(TimeSpan.FromSeconds(60));
        var error = reply.Single(m => m.Code == 'E');
        Assert.Equal("57014", error.SqlState);
        Assert.Contains("The open transaction was lost", error.Field('H'));
        Assert.Equal((byte)'E', reply[^1].Body[0]);

        // As in Postgres: the failed transaction refuses statements until ROLLBACK.
        reply = await client.Query("SELECT 1").RoundTripAsync();
        Assert.Equal("25P02", reply.Single(m => m.Code == 'E').SqlState);
        Assert.Equal((byte)'E', reply[^1].Body[0]);
        reply = await client.Query("ROLLBACK").RoundTripAsync();
        Assert.DoesNotContain(reply, m => m.Code == 'E');
        Assert.Equal((byte)'I', reply[^1].Body[0]);
        Assert.Equal("3", (await client.SingleRowAsync("SELECT 1 + 2"))[0]);
    }

    [Fact]
    public async Task A_client_that_leaves_while_its_statement_ignores_the_cancel_does_not_hold_the_engine()
    {
        await using var server = await ZeroPgServer.StartAsync(Options("memory", null), TestLogging.Factory);
        var client = await RawProtocolClient.ConnectAsync(server);
        await client.Query("SELECT pg_sleep(60)").FlushAsync();
        await EngineProbe.RunningAsync(server);
        await client.DisposeAsync();

        await using var other = await OpenAsync(server);
        var clock = Stopwatch.StartNew();
        Assert.Equal(5, await other.ScalarAsync("select 5", commandTimeout: 120));
        output.WriteLine($"the next client waited {clock.ElapsedMilliseconds} ms");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"the next client waited {clock.Elapsed}");
        Assert.Equal(1, server.Services.Engine.Restarts);
    }

    [Fact]
    public void The_bound_is_validated_at_start()
    {
        Assert.Throws<ArgumentException>(() => new ZeroPgOptions { CancelRestartAfter = TimeSpan.FromMilliseconds(10) }.Validate());
        Assert.Throws<ArgumentException>(() => new ZeroPgOptions { CancelRestartAfter = TimeSpan.FromSeconds(-1) }.Validate());
        new ZeroPgOptions { CancelRestartAfter = TimeSpan.Zero }.Validate();
    }

    private static ZeroPgOptions Options(string storage, TempDirectory? directory) => new()
    {
        DataDirectory = storage == "memory" ? ZeroPgOptions.MemoryDatabase : directory!.Sub("db"),
        CancelRestartAfter = Bound,
        CancelRestartsMemoryEngine = true, // the restart path on memory:// too (the default waits there: UnhonouredCancelTests)
        EngineHostEnvironment = new Dictionary<string, string> { ["ZEROPG_TEST_IGNORE_CANCEL"] = "1" },
    };

    /// <summary>Npgsql reports a 57014 it asked for (NpgsqlCommand.Cancel) as OperationCanceledException around the server's error.</summary>
    private static async Task<PostgresException> CancelledAsync(Task running)
    {
        var cancelled = await Assert.ThrowsAsync<OperationCanceledException>(() => running);
        return Assert.IsType<PostgresException>(cancelled.InnerException);
    }

    private static async Task<NpgsqlConnection> OpenAsync(ZeroPgServer server)
    {
        // Npgsql gives up on a cancel after its Cancellation Timeout (2 s by default) and breaks the connection;
        // a restart takes longer than that here, so it is raised, as the README advises.
        var connection = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false;Cancellation Timeout=30000;Include Error Detail=true");
        await connection.OpenAsync();
        return connection;
    }
}
