using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>pg_stat_activity has one row per client, as Postgres has one per backend; pg_terminate_backend / pg_cancel_backend act on the client with that pid.</summary>
[Collection(ServerCollection.Name)]
public sealed class StatActivityTests(ServerFixture fixture)
{
    private static async Task<int> PidAsync(NpgsqlConnection connection) => (int)(await connection.ScalarAsync("SELECT pg_backend_pid()"))!;

    private static PostgresException? Postgres(Exception error) => error as PostgresException ?? error.InnerException as PostgresException;

    [Fact]
    public async Task Each_client_has_its_row_with_its_state_query_and_times()
    {
        await using var watcher = await fixture.OpenAsync("Application Name=watcher");
        await using var idle = await fixture.OpenAsync("Application Name=idle one");
        // A simple-Query BEGIN waits in ZeroPg for the transaction's first statement: idle in a transaction without holding the engine.
        await using var inTransaction = await RawProtocolClient.ConnectAsync(fixture.Server);
        var transactionPid = int.Parse((await inTransaction.SingleRowAsync("SELECT pg_backend_pid()"))[0]!);
        await inTransaction.Query("BEGIN").RoundTripAsync();
        var (watcherPid, idlePid) = (await PidAsync(watcher), await PidAsync(idle));
        await idle.ExecAsync("SELECT 'last of idle'");

        await using var read = new NpgsqlCommand("""
            SELECT pid, usename, datname = current_database(), application_name, state, query, backend_start IS NOT NULL,
                   xact_start IS NOT NULL, backend_type
            FROM pg_stat_activity WHERE pid = ANY(@pids) ORDER BY pid
            """, watcher);
        read.Parameters.AddWithValue("pids", new[] { watcherPid, idlePid, transactionPid });
        var rows = new Dictionary<int, object[]>();
        await using (var reader = await read.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                var values = new object[reader.FieldCount];
                reader.GetValues(values);
                rows[reader.GetInt32(0)] = values;
            }
        }
        Assert.Equal(3, rows.Count);
        Assert.Equal(["postgres", true, "watcher", "active"], rows[watcherPid][1..5]);
        Assert.StartsWith("SELECT pid, usename", (string)rows[watcherPid][5]);
        Assert.Equal(["idle one", "idle", "SELECT 'last of idle'", true, false], rows[idlePid][3..8]);
        Assert.Equal(["", "idle in transaction", "BEGIN", true, true, "client backend"], rows[transactionPid][3..9]);
        Assert.Equal(1L, await watcher.ScalarAsync($"SELECT count(*) FROM pg_stat_activity WHERE pid = pg_backend_pid()"));
    }

    [Fact]
    public async Task A_client_sending_copy_data_shows_its_copy_as_its_query()
    {
        // As in Postgres: the COPY is the client's statement while its data comes and while it loads (the engine hold log names it too).
        await using var watcher = await fixture.OpenAsync();
        await using var copier = await fixture.OpenAsync();
        var copierPid = await PidAsync(copier);
        await copier.ExecAsync("CREATE TEMP TABLE copied (n int); SELECT 'before the copy'");
        await using (var writer = await copier.BeginTextImportAsync("COPY copied (n) FROM STDIN"))
        {
            await writer.WriteLineAsync("1");
            await writer.FlushAsync();
            Assert.Equal("active|COPY copied (n) FROM STDIN", await watcher.ScalarAsync(
                $"SELECT concat_ws('|', state, query) FROM pg_stat_activity WHERE pid = {copierPid}"));
        }
        Assert.Equal(1L, await copier.ScalarAsync("SELECT count(*) FROM copied"));
    }

    [Fact]
    public async Task A_client_queued_for_the_engine_shows_the_wait_and_pg_cancel_backend_drops_its_statement()
    {
        await using var holder = await fixture.OpenAsync();
        await using var queued = await fixture.OpenAsync();
        var queuedPid = await PidAsync(queued);
        await holder.ExecAsync("BEGIN; SELECT 1"); // holds the shared engine
        var waiting = queued.ScalarAsync("SELECT 'ran'");
        // This client's own wait (another test's departing client may be queued for its cleanup too).
        await Eventually.WaitUntilAsync(() => fixture.Server.Services.Registry.Find(queuedPid)?.Activity.Current.WaitsForEngine == true,
            "the client is queued for the engine");

        Assert.Equal("active|Lock|ZeroPgEngine|SELECT 'ran'", await holder.ScalarAsync(
            $"SELECT concat_ws('|', state, wait_event_type, wait_event, query) FROM pg_stat_activity WHERE pid = {queuedPid}"));
        // The signal leaves with the caller's transaction (ZeroPg is told through a notification): at once in autocommit.
        await using (var cancel = new NpgsqlCommand($"COMMIT; SELECT pg_cancel_backend({queuedPid})", holder))
        await using (var reader = await cancel.ExecuteReaderAsync())
        {
            Assert.True(await reader.ReadAsync() || (await reader.NextResultAsync() && await reader.ReadAsync()));
            Assert.True(reader.GetBoolean(0));
        }
        var cancelled = await Assert.ThrowsAnyAsync<Exception>(() => waiting);
        Assert.Equal("57014", Postgres(cancelled)?.SqlState);
        Assert.Equal("again", await queued.ScalarAsync("SELECT 'again'"));
    }

    [Fact]
    public async Task A_cancelled_wait_cancels_only_its_statement_even_when_the_next_is_already_sent()
    {
        await using var holder = await fixture.OpenAsync();
        await using var queued = await RawProtocolClient.ConnectAsync(fixture.Server);
        var queuedPid = int.Parse((await queued.SingleRowAsync("SELECT pg_backend_pid()"))[0]!);
        await holder.ExecAsync("BEGIN; SELECT 1");
        // Both statements are sent at once: the second is read with the first, so no idle moment comes between them.
        await queued.Query("SELECT 'ran'").Query("SELECT 'again'").FlushAsync();
        await Eventually.WaitUntilAsync(() => fixture.Server.Services.Registry.Find(queuedPid)?.Activity.Current.WaitsForEngine == true,
            "the client is queued for the engine");
        await holder.ExecAsync($"COMMIT; SELECT pg_cancel_backend({queuedPid})");

        var first = await queued.ReadUntilReadyAsync();
        Assert.Equal("57014", first.Single(m => m.Code == 'E').SqlState);
        var second = await queued.ReadUntilReadyAsync();
        Assert.DoesNotContain(second, m => m.Code == 'E');
        Assert.Equal("again", second.Single(m => m.Code == 'D').Columns()[0]); // Postgres cancels only the statement that runs
    }

    [Fact]
    public async Task A_cancelled_wait_drops_an_extended_sequence_up_to_its_Sync_and_the_next_sequence_runs()
    {
        await using var holder = await fixture.OpenAsync();
        await using var queued = await RawProtocolClient.ConnectAsync(fixture.Server);
        var queuedPid = int.Parse((await queued.SingleRowAsync("SELECT pg_backend_pid()"))[0]!);
        await holder.ExecAsync("BEGIN; SELECT 1");
        await queued.Parse("", "SELECT 'ran'").Bind("", "").Execute().Sync()
            .Parse("", "SELECT 'again'").Bind("", "").Execute().Sync().FlushAsync();
        await Eventually.WaitUntilAsync(() => fixture.Server.Services.Registry.Find(queuedPid)?.Activity.Current.WaitsForEngine == true,
            "the client is queued for the engine");
        await holder.ExecAsync($"COMMIT; SELECT pg_cancel_backend({queuedPid})");

        Assert.Equal(["E", "Z"], (await queued.ReadUntilReadyAsync()).Select(m => m.Code.ToString()));
        var second = await queued.ReadUntilReadyAsync();
        Assert.Equal(["1", "2", "D", "C", "Z"], second.Select(m => m.Code.ToString()));
        Assert.Equal("again", second.Single(m => m.Code == 'D').Columns()[0]);
    }

    [Fact]
    public async Task Pg_terminate_backend_ends_the_clients_connection_with_57P01()
    {
        await using var caller = await fixture.OpenAsync();
        await using var target = await fixture.OpenAsync();
        var targetPid = await PidAsync(target);
        await target.ExecAsync("BEGIN; CREATE TEMP TABLE terminated_tmp(x int)"); // idle in a transaction, holding the engine
        var run = caller.ScalarAsync($"SELECT pg_catalog.pg_terminate_backend({targetPid})");

        // The caller waits for the engine, which the target holds: terminate is still asked of the target only once the call runs,
        // so the target is ended by the idle limit of nobody; end its transaction to let the call in.
        await Eventually.QueuedAsync(fixture.Server);
        await target.ExecAsync("COMMIT");
        Assert.Equal(true, await run);
        await Eventually.WaitUntilAsync(() => fixture.Server.Services.Registry.Find(targetPid) is null, "the terminated client is gone");
        var ended = await Assert.ThrowsAnyAsync<Exception>(() => target.ScalarAsync("SELECT 1"));
        Assert.Equal("57P01", Postgres(ended)?.SqlState);
        Assert.Equal("terminating connection due to administrator command", Postgres(ended)?.MessageText);
    }

    [Fact]
    public async Task A_pid_that_is_no_client_gets_false_and_postgres_warning()
    {
        await using var caller = await fixture.OpenAsync();
        var notices = new List<PostgresNotice>();
        caller.Notice += (_, e) => notices.Add(e.Notice);
        Assert.Equal(false, await caller.ScalarAsync("SELECT pg_terminate_backend(12345)"));
        Assert.Equal(false, await caller.ScalarAsync("SELECT pg_cancel_backend(12345, )".Replace(", )", ")")));
        Assert.Equal(DBNull.Value, await caller.ScalarAsync("SELECT pg_terminate_backend(NULL)"));
        Assert.Equal(2, notices.Count(n => n is { Severity: "WARNING", MessageText: "PID 12345 is not a PostgreSQL backend process" }));
        Assert.Equal("pg_terminate_backend", await ColumnNameAsync(caller, "SELECT pg_terminate_backend(12345)"));
    }

    private static async Task<string> ColumnNameAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        return reader.GetName(0);
    }

    [Fact]
    public async Task A_role_that_is_no_superuser_signals_only_its_own_roles_clients()
    {
        await using (var admin = await fixture.OpenAsync())
            await admin.ExecAsync("do $$ begin if not exists (select from pg_roles where rolname = 'signal_app') then create role signal_app login; end if; end $$");
        var asApp = new NpgsqlConnectionStringBuilder(fixture.ConnectionString) { Username = "signal_app", Password = null, Pooling = false }.ConnectionString;
        await using var app = new NpgsqlConnection(asApp);
        await app.OpenAsync();
        await using var sameRole = new NpgsqlConnection(asApp);
        await sameRole.OpenAsync();
        await using var superuser = await fixture.OpenAsync();
        var (sameRolePid, superuserPid) = (await PidAsync(sameRole), await PidAsync(superuser));

        Assert.Equal("signal_app|signal_app", await superuser.ScalarAsync(
            $"SELECT string_agg(usename, '|') FROM pg_stat_activity WHERE pid IN ({await PidAsync(app)}, {sameRolePid})"));
        var notices = new List<PostgresNotice>();
        app.Notice += (_, e) => notices.Add(e.Notice);
        Assert.Equal(false, await app.ScalarAsync($"SELECT pg_terminate_backend({superuserPid})"));
        var denied = Assert.Single(notices);
        Assert.Equal(("42501", "permission denied to terminate process"), (denied.SqlState, denied.MessageText));
        Assert.Equal(1, await superuser.ScalarAsync("SELECT 1")); // untouched

        Assert.Equal(true, await app.ScalarAsync($"SELECT pg_terminate_backend({sameRolePid})"));
        var ended = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await Eventually.WaitUntilAsync(() => fixture.Server.Services.Registry.Find(sameRolePid) is null, "the same role's client is gone");
            await sameRole.ScalarAsync("SELECT 1");
        });
        Assert.Equal("57P01", Postgres(ended)?.SqlState);
    }
}
