using Npgsql;
using Xunit.Abstractions;
using ZeroPg.Engine;
using ZeroPg.Tests.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>
/// Issue 66: after an engine restart no client is left with half a session. For each kind of per-client state (each registered
/// ISessionState object: LISTEN, settings, the client encoding, advisory locks, cursors, prepared statements by Parse and by SQL
/// PREPARE, temp tables, auto-prepare, a portal read ahead) and each way an engine restarts (a kill, the kill that stops a statement
/// that ignored its cancel, a snapshot's restore that swaps engines), a client holding that state meets the restart, then
/// either behaves as before it or is ended with FATAL 57P01 naming what it lost. On memory:// the data dies with the engine, so
/// every client that used the old engine is ended. One server and one restart per path: every cell's client is connected at once.
/// </summary>
public sealed class EngineRestartSessionTests(ITestOutputHelper output)
{
    /// <summary>One kind of state: how a client takes it, and how it shows it has it still (run only when the state is restorable).</summary>
    private sealed record Cell(string State, bool Restorable, string Hold, Func<NpgsqlConnection, NpgsqlConnection, Task>? AsBefore = null, string? LostDetail = null);

    private static readonly Cell[] Cells =
    [
        new("nothing but a query", true, "select 1", async (client, _) => Assert.Equal(1, await client.ScalarAsync("select 1"))),
        new("LISTEN", true, "LISTEN matrix_channel", async (client, other) =>
        {
            var received = new TaskCompletionSource<NpgsqlNotificationEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
            client.Notification += (_, e) => received.TrySetResult(e);
            await other.ExecAsync("NOTIFY matrix_channel, 'after the restart'");
            var waiting = client.WaitAsync(TimeSpan.FromSeconds(10)); // idle: delivered without the client sending anything
            var notification = await received.Task.WaitAsync(TimeSpan.FromSeconds(10));
            await waiting;
            Assert.Equal("after the restart", notification.Payload);
            Assert.Equal("matrix_channel", await client.ScalarAsync("select pg_listening_channels()"));
        }),
        new("SET", true, "SET work_mem = '7MB'; SET application_name = 'matrix'", async (client, _) =>
        {
            Assert.Equal("7MB", await client.ScalarAsync("show work_mem"));
            Assert.Equal("matrix", await client.ScalarAsync("show application_name"));
        }),
        new("advisory lock", true, "SELECT pg_advisory_lock(4711)", async (client, other) =>
        {
            Assert.Equal(false, await other.ScalarAsync("SELECT pg_try_advisory_lock(4711)"));
            Assert.Equal(true, await client.ScalarAsync("SELECT pg_advisory_unlock(4711)"));
            Assert.Equal(true, await other.ScalarAsync("SELECT pg_try_advisory_lock(4711)"));
            Assert.Equal(true, await other.ScalarAsync("SELECT pg_advisory_unlock(4711)"));
        }),
        new("advisory lock taken in a transaction block", true, "BEGIN|SELECT pg_advisory_lock(4712)|COMMIT", async (client, other) =>
        {
            Assert.Equal(false, await other.ScalarAsync("SELECT pg_try_advisory_lock(4712)")); // a session lock outlives its transaction
            Assert.Equal(true, await client.ScalarAsync("SELECT pg_advisory_unlock(4712)"));
        }),
        new("prepared statement (Parse)", true, "", async (client, _) =>
        {
            await using var command = new NpgsqlCommand("select $1::int + 1", client);
            command.Parameters.AddWithValue(41);
            await command.PrepareAsync(); // Npgsql's own: prepared on this connection before the restart, so it only Binds the name
            Assert.Equal(42, await command.ExecuteScalarAsync());
        }),
        new("auto-prepared query", true, "select 40 + 2", async (client, _) =>
        {
            for (var i = 0; i < 3; i++)
                Assert.Equal(42, await client.ScalarAsync("select 40 + 2"));
        }),
        new("cursor WITH HOLD", false, "BEGIN; DECLARE matrix_cursor CURSOR WITH HOLD FOR SELECT generate_series(1, 10); COMMIT; FETCH 1 FROM matrix_cursor",
            LostDetail: "cursors declared WITH HOLD"),
        new("SQL PREPARE", false, "PREPARE matrix_by_sql(int) AS SELECT $1 + 1", LostDetail: "SQL PREPARE made (matrix_by_sql)"),
        new("temp table", false, "CREATE TEMP TABLE matrix_temp(x int); INSERT INTO matrix_temp VALUES (1)", LostDetail: "temporary tables (matrix_temp)"),
    ];

    [Fact]
    public Task A_killed_engine_on_a_data_directory_keeps_every_restorable_session_and_ends_the_others() => RunAsync("disk", Kill);

    [Fact]
    public Task A_killed_engine_on_memory_ends_every_client_that_used_it() => RunAsync("memory", Kill);

    [Fact]
    [Trait("Category", "Slow")]
    public Task A_killed_engine_host_process_on_a_data_directory_keeps_every_restorable_session_and_ends_the_others()
        => RunAsync("disk", Kill, EngineHostMode.Process);

    [Fact]
    [Trait("Category", "Slow")]
    public Task A_restart_to_stop_a_statement_that_ignored_its_cancel_keeps_every_restorable_session_and_ends_the_others()
        => RunAsync("disk", CancelIgnored, cancelIgnored: true);

    [Fact]
    [Trait("Category", "Slow")]
    public Task A_restart_to_stop_a_statement_that_ignored_its_cancel_on_memory_ends_every_client() => RunAsync("memory", CancelIgnored, cancelIgnored: true);

    /// <summary>A snapshot's restore that swaps engines (the schema changed since the snapshot) on memory://: the data is the snapshot's, not lost, so restorable sessions stay.</summary>
    [Fact]
    public Task A_snapshot_restore_that_swaps_engines_keeps_every_restorable_session_and_ends_the_others() => RunAsync("memory", SnapshotSwap, snapshot: true);

    /// <summary>
    /// A portal suspended by an Execute with a row limit inside a transaction block lives in the engine (it is not read ahead): it dies
    /// with the engine and its transaction, as a Postgres backend's portals die with it. The client is ended at once with 57P01 whose
    /// DETAIL names the portal, and a new connection can do the same again.
    /// </summary>
    [Fact]
    public async Task A_portal_suspended_in_a_transaction_block_ends_its_client_naming_the_portal_when_the_engine_is_killed()
    {
        using var directory = new TempDirectory();
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = directory.Sub("db") }, TestLogging.Factory);
        await using var client = await RawProtocolClient.ConnectAsync(server);
        Assert.DoesNotContain(await client.Query("BEGIN").RoundTripAsync(), m => m.Code == 'E');
        var first = await client.Parse("", "select generate_series(1, 5)").Bind("in_block", "").Execute("in_block", 2).Sync().RoundTripAsync();
        Assert.Equal(["1", "2"], first.Where(m => m.Code == 'D').Select(m => m.Columns()[0]));
        Assert.Contains(first, m => m.Code == 's'); // PortalSuspended: the rest waits in the engine, in the client's transaction

        await EngineKill.KillAsync(server);

        var told = (await client.ReadUntilClosedAsync(TimeSpan.FromSeconds(30))).Single(m => m.Code == 'E');
        Assert.Equal("57P01", told.SqlState);
        Assert.Equal("FATAL", told.Field('S'));
        Assert.Contains("portals suspended in its transaction block (in_block)", told.Field('D'));

        await using var again = await RawProtocolClient.ConnectAsync(server);
        Assert.DoesNotContain(await again.Query("BEGIN").RoundTripAsync(), m => m.Code == 'E');
        var rest = await again.Parse("", "select generate_series(1, 5)").Bind("in_block", "").Execute("in_block", 2).Execute("in_block", 0).Sync().RoundTripAsync();
        Assert.Equal(["1", "2", "3", "4", "5"], rest.Where(m => m.Code == 'D').Select(m => m.Columns()[0]));
    }

    /// <summary>
    /// An idle database's engine is stopped (and started again by the next client) only once no client is connected to it
    /// (DatabaseEntry counts connections, not statements): a connected client, however idle, never meets that restart.
    /// </summary>
    [Fact]
    public async Task An_idle_databases_engine_is_stopped_only_once_its_clients_have_left()
    {
        using var directory = new TempDirectory();
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions
        {
            DataDirectory = directory.Sub("db"),
            SpareDatabaseEngine = ZeroPg.Databases.SpareEngineMode.Off,
            DatabaseIdleTimeout = TimeSpan.FromMilliseconds(300),
        }, TestLogging.Factory);
        await using (var setup = await OpenAsync(server))
            await setup.ExecAsync("create database idle_db");
        var entry = server.Services.Databases.Find("idle_db")!;
        await using var client = await OpenAsync(server, "idle_db");
        await client.ExecAsync("LISTEN idle_channel; CREATE TEMP TABLE idle_temp(x int)");
        var engine = entry.RunningServices!.Engine.EngineId;

        await Task.Delay(TimeSpan.FromSeconds(2)); // several idle timeouts: nothing to wait for, the point is that nothing happens
        Assert.Equal(engine, entry.RunningServices?.Engine.EngineId);
        Assert.Equal(0L, await client.ScalarAsync("select count(*) from idle_temp"));
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Notification += (_, e) => received.TrySetResult(e.Payload);
        await using (var other = await OpenAsync(server, "idle_db"))
            await other.ExecAsync("NOTIFY idle_channel, 'still here'");
        await client.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("still here", await received.Task.WaitAsync(TimeSpan.FromSeconds(10)));

        await client.CloseAsync();
        await Eventually.WaitUntilAsync(() => entry.RunningServices is null, "the engine stopped once its last client left", TimeSpan.FromSeconds(30));
    }

    /// <summary>One way an engine restarts; <paramref name="snapshot"/>: the one taken before the cells, when the path restores it.</summary>
    private delegate Task Restart(ZeroPgServer server, NpgsqlConnection other, ZeroPgSnapshot? snapshot);

    private static async Task Kill(ZeroPgServer server, NpgsqlConnection other, ZeroPgSnapshot? _)
    {
        var killed = await EngineKill.KillAsync(server);
        await Eventually.WaitUntilAsync(() => server.EngineId is { } id && id != killed, "a new engine", TimeSpan.FromSeconds(60));
    }

    /// <summary>A statement of a client of its own ignores its cancel: the engine is killed to stop it, and that client stays (its session is whole).</summary>
    private static async Task CancelIgnored(ZeroPgServer server, NpgsqlConnection other, ZeroPgSnapshot? _)
    {
        await using var stuck = await OpenAsync(server);
        await stuck.ExecAsync("SET work_mem = '9MB'");
        await using var sleep = new NpgsqlCommand("select pg_sleep(60)", stuck) { CommandTimeout = 120 };
        var running = sleep.ExecuteScalarAsync();
        await EngineProbe.StatementRunningAsync(server, "select pg_sleep(60)"); // running in the engine, not queued: the cancel must kill it
        sleep.Cancel();
        var thrown = await Record.ExceptionAsync(() => running);
        var error = Assert.IsType<PostgresException>(thrown as PostgresException ?? thrown?.InnerException); // 57014 comes wrapped in OperationCanceledException
        if (server.Services.Engine.Site.IsMemory)
        {
            Assert.Equal("57P01", error.SqlState); // its database's data is gone: ended as every other client
            Assert.Contains("in-memory database was reset", error.MessageText);
            Assert.Contains("did not stop within", error.Detail);
            return;
        }
        Assert.Equal("57014", error.SqlState);
        Assert.Equal("ERROR", error.Severity);
        Assert.Equal("9MB", await stuck.ScalarAsync("show work_mem", commandTimeout: 120));
    }

    /// <summary>A restore from the snapshot taken before the cells, after a schema change: the engine is swapped for one started from the dump.</summary>
    private static async Task SnapshotSwap(ZeroPgServer server, NpgsqlConnection other, ZeroPgSnapshot? snapshot)
    {
        var engine = server.EngineId;
        await other.ExecAsync("create table after_snapshot(x int)");
        await server.RestoreAsync(snapshot!);
        Assert.NotEqual(engine, server.EngineId);
    }

    private async Task RunAsync(string storage, Restart restart, EngineHostMode? host = null, bool cancelIgnored = false, bool snapshot = false)
    {
        using var directory = new TempDirectory();
        var options = new ZeroPgOptions { DataDirectory = storage == "memory" ? ZeroPgOptions.MemoryDatabase : directory.Sub("db") };
        if (host is { } mode)
            options.EngineHost = mode;
        if (cancelIgnored)
        {
            options.CancelRestartAfter = TimeSpan.FromSeconds(1);
            options.CancelRestartsMemoryEngine = true; // memory:// waits for such a statement by default; these cells test the kill
            options.EngineHostEnvironment = new Dictionary<string, string> { ["ZEROPG_TEST_IGNORE_CANCEL"] = "1" };
        }
        await using var server = await ZeroPgServer.StartAsync(options, TestLogging.Factory);
        var dataLost = storage == "memory" && !snapshot; // a snapshot's restore replaces the data, it does not lose it
        await using var other = await OpenAsync(server);
        await other.ExecAsync("create table kept(x int); insert into kept values (1)");
        await using var taken = snapshot ? await server.SnapshotAsync() : null;

        var clients = new List<NpgsqlConnection>();
        try
        {
            foreach (var cell in Cells)
            {
                var client = await OpenAsync(server);
                clients.Add(client);
                if (cell.State == "prepared statement (Parse)")
                {
                    await using var command = new NpgsqlCommand("select $1::int + 1", client);
                    command.Parameters.AddWithValue(41);
                    await command.PrepareAsync();
                    Assert.Equal(42, await command.ExecuteScalarAsync());
                }
                else
                {
                    for (var run = 0; run < (cell.State == "auto-prepared query" ? 3 : 1); run++) // run once, then auto-prepared
                    {
                        foreach (var statement in cell.Hold.Split('|')) // '|': one Query each
                            await client.ExecAsync(statement);
                    }
                }
            }
            // The client encoding is ZeroPg's own: a raw client, as Npgsql speaks only UTF8.
            await using var latin1 = await RawProtocolClient.ConnectAsync(server);
            Assert.DoesNotContain((await latin1.Query("SET client_encoding TO 'LATIN1'").RoundTripAsync()), m => m.Code == 'E');
            Assert.Equal("1", (await latin1.SingleRowAsync("SELECT 1"))[0]); // the SET is ZeroPg's: this uses the engine
            // A client with a temp table idle: told at once, before it sends anything.
            await using var idleTemp = await RawProtocolClient.ConnectAsync(server);
            Assert.DoesNotContain((await idleTemp.Query("CREATE TEMP TABLE idle_temp(x int)").RoundTripAsync()), m => m.Code == 'E');
            // A portal suspended outside a transaction block (Execute with a row limit, no Sync: pg-cursor, pgjdbc's fetch size): read
            // ahead into ZeroPg, so the engine is free; the client reads the rest after the restart.
            await using var readAhead = await RawProtocolClient.ConnectAsync(server);
            var firstRows = await readAhead.Parse("", "select generate_series(1, 5)").Bind("matrix_portal", "").Execute("matrix_portal", 2).Flush().RoundTripUntilAsync('s');
            Assert.Equal(["1", "2"], firstRows.Where(m => m.Code == 'D').Select(m => m.Columns()[0]));
            Assert.Equal(1, await other.ScalarAsync("select 1")); // the last unit's bookkeeping is done before the restart

            await restart(server, other, taken);

            if (snapshot)
            {
                // A swap is learnt at the next grant, not by the idle read: told at its next statement.
                await idleTemp.Query("select 1").FlushAsync();
                Assert.Equal("57P01", (await idleTemp.ReadUntilClosedAsync(TimeSpan.FromSeconds(30))).Single(m => m.Code == 'E').SqlState);
            }
            else
            {
                var unprompted = await idleTemp.ReadMessageAsync(TimeSpan.FromSeconds(30));
                Assert.NotNull(unprompted);
                Assert.Equal('E', unprompted.Code);
                Assert.Equal("57P01", unprompted.SqlState);
                Assert.Equal("FATAL", unprompted.Field('S'));
            }

            if (dataLost)
            {
                // Its rows were read from a database that is gone: ended at once, as every client of the old engine.
                Assert.Equal("57P01", (await readAhead.ReadUntilClosedAsync(TimeSpan.FromSeconds(30))).Single(m => m.Code == 'E').SqlState);
            }
            else
            {
                // Restored whole: the rest of the portal, then the implicit transaction ends at Sync, as before the restart.
                var rest = await readAhead.Execute("matrix_portal", 2).Execute("matrix_portal", 0).Sync().RoundTripAsync();
                Assert.Equal(["3", "4", "5"], rest.Where(m => m.Code == 'D').Select(m => m.Columns()[0]));
                Assert.Equal(["s", "C", "Z"], rest.Where(m => m.Code != 'D').Select(m => m.Code.ToString()));
                Assert.Equal("SELECT 1", rest.Single(m => m.Code == 'C').BodyText.TrimEnd('\0'));
                Assert.Equal("1", (await readAhead.SingleRowAsync("select 1"))[0]);
                output.WriteLine("portal read ahead: as before the restart");
            }

            if (dataLost)
            {
                // The other client used the old engine too: ended, and a new connection finds a fresh database.
                var otherError = await Assert.ThrowsAsync<PostgresException>(() => other.ScalarAsync("select count(*) from kept"));
                Assert.Equal("57P01", otherError.SqlState);
            }
            await using var fresh = await OpenAsync(server);
            if (dataLost)
                Assert.Equal("42P01", (await Assert.ThrowsAsync<PostgresException>(() => fresh.ScalarAsync("select count(*) from kept"))).SqlState);
            else
                Assert.Equal(1L, await fresh.ScalarAsync("select count(*) from kept"));

            if (dataLost)
                Assert.Equal("57P01", (await latin1.ReadUntilClosedAsync(TimeSpan.FromSeconds(30))).Single(m => m.Code == 'E').SqlState); // told at once
            else
                Assert.Equal("LATIN1", (await latin1.SingleRowAsync("SHOW client_encoding"))[0]);

            for (var i = 0; i < Cells.Length; i++)
            {
                var cell = Cells[i];
                var client = clients[i];
                if (cell.Restorable && !dataLost)
                {
                    await cell.AsBefore!(client, fresh);
                    output.WriteLine($"{cell.State}: as before the restart");
                    continue;
                }
                var error = await Assert.ThrowsAsync<PostgresException>(() => client.ScalarAsync("select 1"));
                output.WriteLine($"{cell.State}: {error.SqlState} {error.MessageText} ({error.Detail})");
                Assert.Equal("57P01", error.SqlState);
                Assert.Equal("FATAL", error.Severity);
                Assert.Contains(dataLost ? "in-memory database was reset" : "could not be restored", error.MessageText);
                if (cell.LostDetail is { } lost)
                    Assert.Contains(lost, error.Detail);
            }
            // What an ended client had can be had again on a new connection.
            await using var again = await OpenAsync(server);
            await again.ExecAsync("CREATE TEMP TABLE matrix_temp(x int); LISTEN matrix_channel; PREPARE matrix_by_sql AS SELECT 1");
        }
        finally
        {
            foreach (var client in clients)
                await client.DisposeAsync();
        }
    }

    private static async Task<NpgsqlConnection> OpenAsync(ZeroPgServer server, string database = "postgres")
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server.GetConnectionString())
        {
            Database = database, Pooling = false, CancellationTimeout = 30000, IncludeErrorDetail = true,
        }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }
}
