using System.Diagnostics;
using Npgsql;
using Xunit.Abstractions;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Engine;

/// <summary>Cancel and statement timeouts inside the engine, as a client sees them (Npgsql and the raw protocol).</summary>
public sealed class CancelTests(ITestOutputHelper output)
{
    public static TheoryData<string> Storage => new() { "memory", "disk" };

    /// <summary>
    /// Half the shortest query's natural run (pg_sleep(10)): an answer inside it shows the cancel stopped the query
    /// in the engine. Issue 11's 1 s target is a speed figure, measured by bench/cancel.mjs, not asserted here
    /// (a loaded CI machine once took 1.03 s).
    /// </summary>
    private static readonly TimeSpan CancelBound = TimeSpan.FromSeconds(5);

    public static TheoryData<string, string> StorageAndQuery => new()
    {
        { "memory", "select pg_sleep(10)" },
        { "memory", "select count(*) from generate_series(1, 3000000000)" },
        { "disk", "select pg_sleep(10)" },
        { "disk", "select count(*) from generate_series(1, 3000000000)" },
    };

    [Theory]
    [Trait("Category", "Slow")]
    [MemberData(nameof(StorageAndQuery))]
    public async Task A_cancelled_query_gets_57014_before_it_would_end_without_an_engine_restart(string storage, string query)
    {
        using var directory = new TempDirectory();
        await using var server = await ZeroPgServer.StartAsync(Options(storage, directory), TestLogging.Factory);
        var engine = server.EngineId;
        await using var client = await OpenAsync(server);
        await using var other = await OpenAsync(server);
        await client.ExecAsync("create table kept(x int); insert into kept values (1); set work_mem = '7MB'");
        await client.ScalarAsync("select 1", commandTimeout: 120); // after ZeroPg's own settings snapshot: the next call in the engine is the query

        await using var slow = new NpgsqlCommand(query, client) { CommandTimeout = 120 };
        var running = slow.ExecuteScalarAsync();
        await EngineProbe.StatementRunningAsync(server, query);
        var queued = other.ScalarAsync("select 42", commandTimeout: 120); // another client, waiting for the engine meanwhile
        var clock = Stopwatch.StartNew();
        slow.Cancel();
        var error = await CancelledAsync(running);
        var cancelled = clock.Elapsed;
        Assert.Equal(42, await queued);
        var served = clock.Elapsed;
        output.WriteLine($"{storage} {query}: CancelRequest to 57014 {cancelled.TotalMilliseconds:0} ms, the other client served after {served.TotalMilliseconds:0} ms");
        Assert.Equal("57014", error.SqlState);
        Assert.Equal("canceling statement due to user request", error.MessageText);
        Assert.True(error.Hint is null, $"hint: {error.Hint}; detail: {error.Detail}"); // no restart to explain
        Assert.True(cancelled < CancelBound, $"cancel took {cancelled}");
        Assert.True(served < CancelBound, $"the other client waited {served}");

        // No restart: the same engine process; the same connection goes on with its session and data.
        Assert.Equal(0, server.Services.Engine.Restarts);
        Assert.Equal(engine, server.EngineId);
        Assert.Equal(1L, await client.ScalarAsync("select count(*) from kept", commandTimeout: 120));
        Assert.Equal("7MB", await client.ScalarAsync("show work_mem", commandTimeout: 120));
    }

    [Fact]
    public async Task A_cancel_inside_a_transaction_fails_the_transaction_as_in_Postgres()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var client = await RawProtocolClient.ConnectAsync(server);
        await client.Query("BEGIN").FlushAsync();
        await client.ReadUntilReadyAsync();
        await client.Query("SELECT pg_sleep(30)").FlushAsync();
        // The client's statement, not just any engine call (a call of ZeroPg's own before it, and a cancel meanwhile is ignored as Postgres ignores one before the query).
        await EngineProbe.StatementRunningAsync(server, "SELECT pg_sleep(30)");
        await using (var canceller = await RawProtocolClient.ConnectWithoutStartupAsync(server))
            await canceller.CancelRequest(client.BackendKey).FlushAsync();
        var reply = await client.ReadUntilReadyAsync();
        Assert.Equal("57014", reply.Single(m => m.Code == 'E').SqlState);
        Assert.Equal('Z', reply[^1].Code);
        Assert.Equal((byte)'E', reply[^1].Body[0]); // in a failed transaction block, as Postgres leaves it
        await client.Query("ROLLBACK").FlushAsync();
        Assert.Equal((byte)'I', (await client.ReadUntilReadyAsync())[^1].Body[0]);
    }

    [Fact]
    public async Task A_cancel_after_the_query_ended_does_not_hit_the_next_one()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var client = await RawProtocolClient.ConnectAsync(server);
        await client.Query("SELECT 1").FlushAsync();
        await client.ReadUntilReadyAsync();
        await using (var canceller = await RawProtocolClient.ConnectWithoutStartupAsync(server))
            await canceller.CancelRequest(client.BackendKey).FlushAsync(); // idle: Postgres ignores it
        await Task.Delay(200); // (nothing to poll for: the point is that nothing happens)
        await client.Query("SELECT pg_sleep(0.3), 'done'").FlushAsync();
        var reply = await client.ReadUntilReadyAsync();
        Assert.DoesNotContain(reply, m => m.Code == 'E');
        Assert.Contains(reply, m => m.Code == 'D');
    }

    [Fact]
    public async Task A_cancel_stops_only_its_own_client_and_the_other_client_runs_next()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var first = await OpenAsync(server);
        await using var second = await OpenAsync(server);
        await using var slow = new NpgsqlCommand("select count(*) from generate_series(1, 3000000000)", first) { CommandTimeout = 120 };
        var running = slow.ExecuteScalarAsync();
        await EngineProbe.StatementRunningAsync(server, slow.CommandText);
        var queued = second.ScalarAsync("select 42", commandTimeout: 120); // queued behind the slow query
        slow.Cancel();
        Assert.Equal("57014", (await CancelledAsync(running)).SqlState);
        Assert.Equal(42, await queued);
        Assert.Equal(1, await first.ScalarAsync("select 1", commandTimeout: 120));
    }

    [Theory]
    [MemberData(nameof(Storage))]
    public async Task Statement_timeout_fires_per_client(string storage)
    {
        using var directory = new TempDirectory();
        await using var server = await ZeroPgServer.StartAsync(Options(storage, directory), TestLogging.Factory);
        await using var timed = await OpenAsync(server);
        await using var untimed = await OpenAsync(server);
        await timed.ExecAsync("SET statement_timeout = '300ms'");

        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<PostgresException>(() => timed.ScalarAsync("select count(*) from generate_series(1, 3000000000)", commandTimeout: 120));
        Assert.Equal("57014", error.SqlState);
        Assert.Equal("canceling statement due to statement timeout", error.MessageText);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(3));

        error = await Assert.ThrowsAsync<PostgresException>(() => timed.ScalarAsync("select pg_sleep(10)", commandTimeout: 120));
        Assert.Equal("canceling statement due to statement timeout", error.MessageText);

        // The other client's statements have no timeout; the timed client's quick ones run.
        Assert.Equal("", await untimed.ScalarAsync("select pg_sleep(0.5)::text", commandTimeout: 120));
        Assert.Equal(7, await timed.ScalarAsync("select 7", commandTimeout: 120));
    }

    [Fact]
    public async Task A_statement_timeout_ends_its_query_with_one_error_and_one_ReadyForQuery()
    {
        // psql said "message type 0x5a arrived from server while idle" after every statement_timeout: the engine host raised the
        // timeout again after Postgres had reported it, and Postgres reported it a second time in the same reply.
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var client = await RawProtocolClient.ConnectAsync(server);
        var reply = await client.Query("set statement_timeout = '300ms'; select pg_sleep(10)").RoundTripAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("CTEZ", string.Concat(reply.Select(m => m.Code)));
        Assert.Equal("57014", reply.Single(m => m.Code == 'E').SqlState);
        // Nothing else is on its way: the next query's reply is its own.
        Assert.Equal("1", Assert.Single(await client.SingleRowAsync("select 1")));
    }

    [Fact]
    public async Task ZeroPgs_own_sql_runs_to_its_end_under_a_statement_timeout_a_client_left_in_the_engine_session()
    {
        // ZeroPg's own batches (the cleanup after a client, settings read back, role lookups) run in the engine session as the
        // last client left it: under a client's 1 ms the first statement of a cleanup could be stopped, under load on each try.
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var timed = await OpenAsync(server);
        await timed.ExecAsync("SET statement_timeout = '200ms'");
        Assert.Equal("200ms", await EngineProbe.ScalarAsync(server, "SHOW statement_timeout")); // the engine session has it now

        Assert.Equal("", await EngineProbe.ScalarAsync(server, "SELECT pg_catalog.pg_sleep(0.6)::text"));

        // The client's own statements still time out.
        var error = await Assert.ThrowsAsync<PostgresException>(() => timed.ScalarAsync("select pg_sleep(10)", commandTimeout: 120));
        Assert.Equal("canceling statement due to statement timeout", error.MessageText);
    }

    [Fact]
    public async Task Statement_timeout_from_the_startup_options_fires()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var client = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false;Server Compatibility Mode=NoTypeLoading;Options=-c statement_timeout=1000");
        await client.OpenAsync();
        var error = await Assert.ThrowsAsync<PostgresException>(() => client.ScalarAsync("select pg_sleep(10)", commandTimeout: 120));
        Assert.Equal("canceling statement due to statement timeout", error.MessageText);
    }

    [Fact]
    public async Task A_client_that_disconnects_mid_query_has_it_cancelled()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        var client = await RawProtocolClient.ConnectAsync(server);
        await client.Query("select count(*) from generate_series(1, 3000000000)").FlushAsync();
        await EngineProbe.RunningAsync(server);
        await client.DisposeAsync();

        await using var other = await OpenAsync(server);
        var clock = Stopwatch.StartNew();
        Assert.Equal(5, await other.ScalarAsync("select 5", commandTimeout: 120));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"the next client waited {clock.Elapsed}");
    }

    /// <summary>Npgsql reports a 57014 it asked for (NpgsqlCommand.Cancel) as OperationCanceledException around the server's error.</summary>
    private static async Task<PostgresException> CancelledAsync(Task running)
    {
        var cancelled = await Assert.ThrowsAsync<OperationCanceledException>(() => running);
        return Assert.IsType<PostgresException>(cancelled.InnerException);
    }

    private static ZeroPgOptions Options(string storage, TempDirectory directory)
        => storage == "memory" ? new ZeroPgOptions() : new ZeroPgOptions { DataDirectory = directory.Sub("db") };

    private static async Task<NpgsqlConnection> OpenAsync(ZeroPgServer server)
    {
        var connection = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await connection.OpenAsync();
        return connection;
    }
}
