using System.Diagnostics;
using Npgsql;
using ZeroPg.Tests.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>
/// Two-phase commit with -c max_prepared_transactions=10, through real clients: PREPARE TRANSACTION ends the client's transaction
/// (the engine is free for others), any client commits or rolls it back, pg_prepared_xacts lists it, it survives a restart on a
/// data directory, and a statement that needs a lock a prepared transaction holds ends with 55P03 instead of waiting forever in
/// the engine every client shares.
/// </summary>
[Trait("Category", "Slow")]
public sealed class PreparedTransactionTests : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();
    private ZeroPgOptions _options = null!;
    private ZeroPgServer _server = null!;

    public async Task InitializeAsync()
    {
        _options = new ZeroPgOptions { DataDirectory = _directory.Sub("data"), PostgresSettings = { ["max_prepared_transactions"] = "10" } };
        _server = await ZeroPgServer.StartAsync(_options, TestLogging.Factory);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _directory.Dispose();
    }

    private async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(_server.GetConnectionString() + ";Pooling=false;Command Timeout=30");
        await connection.OpenAsync();
        return connection;
    }

    private static async Task<string> RowsAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
            rows.Add(string.Join(",", Enumerable.Range(0, reader.FieldCount).Select(i => reader.GetValue(i).ToString())));
        return string.Join(";", rows);
    }

    [Fact]
    public async Task Another_client_commits_or_rolls_back_what_one_prepared()
    {
        await using var a = await OpenAsync();
        await using var b = await OpenAsync();
        await a.ExecAsync("CREATE TABLE tp_t (id int PRIMARY KEY, v text); INSERT INTO tp_t VALUES (1, 'one')");

        await a.ExecAsync("BEGIN; INSERT INTO tp_t VALUES (2, 'two'); PREPARE TRANSACTION 'tp_commit'");
        await a.ExecAsync("BEGIN; UPDATE tp_t SET v = 'uno' WHERE id = 1; PREPARE TRANSACTION 'tp_rollback'");
        // Both ended a's transactions: b runs at once, and neither change is visible yet.
        Assert.Equal("1,one", await RowsAsync(b, "SELECT id, v FROM tp_t ORDER BY id"));
        Assert.Equal("tp_commit,postgres,postgres;tp_rollback,postgres,postgres",
            await RowsAsync(b, "SELECT gid, owner, database FROM pg_prepared_xacts ORDER BY gid"));

        await b.ExecAsync("COMMIT PREPARED 'tp_commit'");
        await b.ExecAsync("ROLLBACK PREPARED 'tp_rollback'");
        Assert.Equal("1,one;2,two", await RowsAsync(a, "SELECT id, v FROM tp_t ORDER BY id"));
        Assert.Equal(0L, await a.ScalarAsync("SELECT count(*) FROM pg_prepared_xacts"));

        var missing = await Assert.ThrowsAsync<PostgresException>(() => b.ExecAsync("COMMIT PREPARED 'tp_commit'"));
        Assert.Equal("42704", missing.SqlState);
    }

    [Fact]
    public async Task A_wait_for_a_prepared_transactions_lock_ends_with_55P03_and_other_clients_go_on()
    {
        await using var a = await OpenAsync();
        await using var b = await OpenAsync();
        await using var c = await OpenAsync();
        await a.ExecAsync("CREATE TABLE tp_rows (id int PRIMARY KEY, v int); INSERT INTO tp_rows VALUES (1, 1), (2, 2); CREATE TABLE tp_locked (id int)");
        await a.ExecAsync("BEGIN; UPDATE tp_rows SET v = 10 WHERE id = 1; PREPARE TRANSACTION 'tp_row'");
        await a.ExecAsync("BEGIN; LOCK TABLE tp_locked IN ACCESS EXCLUSIVE MODE; PREPARE TRANSACTION 'tp_table'");

        // No lock_timeout: Postgres would wait until someone ends tp_row; here nobody could, so it ends at deadlock_timeout (1 s).
        var clock = Stopwatch.StartNew();
        var waiting = Task.Run(() => b.ExecAsync("UPDATE tp_rows SET v = 7 WHERE id = 1"));
        Assert.Equal(2, await c.ScalarAsync("SELECT v FROM tp_rows WHERE id = 2")); // not wedged behind b
        var rowError = await Assert.ThrowsAsync<PostgresException>(() => waiting);
        Assert.Equal("55P03", rowError.SqlState);
        Assert.Equal("canceling statement due to lock timeout", rowError.MessageText);
        Assert.Contains("pg_prepared_xacts", rowError.Hint);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(20));

        await b.ExecAsync("SET lock_timeout = '100ms'");
        var tableError = await Assert.ThrowsAsync<PostgresException>(() => b.ExecAsync("SELECT * FROM tp_locked"));
        Assert.Equal("55P03", tableError.SqlState);
        Assert.Contains("COMMIT PREPARED", tableError.Hint);

        var nowait = await Assert.ThrowsAsync<PostgresException>(() => c.ExecAsync("SELECT * FROM tp_rows WHERE id = 1 FOR UPDATE NOWAIT"));
        Assert.Equal("55P03", nowait.SqlState);
        Assert.Contains("pg_prepared_xacts", nowait.Hint);

        // Once ended, the same statements run.
        await c.ExecAsync("COMMIT PREPARED 'tp_row'");
        await c.ExecAsync("ROLLBACK PREPARED 'tp_table'");
        await b.ExecAsync("UPDATE tp_rows SET v = v + 1 WHERE id = 1");
        Assert.Equal(11, await b.ScalarAsync("SELECT v FROM tp_rows WHERE id = 1"));
        Assert.Equal(0L, await b.ScalarAsync("SELECT count(*) FROM tp_locked"));
    }

    [Fact]
    public async Task A_transaction_that_changed_a_published_table_cannot_be_prepared()
    {
        await using var a = await OpenAsync();
        await a.ExecAsync("CREATE TABLE tp_published (id int PRIMARY KEY); CREATE TABLE tp_private (id int PRIMARY KEY); "
            + "CREATE PUBLICATION tp_pub FOR TABLE tp_published");
        await a.ExecAsync("SELECT pg_create_logical_replication_slot('tp_slot', 'pgoutput')");

        // Its captured rows would become visible only at COMMIT PREPARED, behind what the slot already confirmed: never sent.
        await a.ExecAsync("BEGIN; INSERT INTO tp_published VALUES (1)");
        var refused = await Assert.ThrowsAsync<PostgresException>(() => a.ExecAsync("PREPARE TRANSACTION 'tp_captured'"));
        Assert.Equal("0A000", refused.SqlState);
        Assert.Contains("publication", refused.Hint);
        Assert.Equal(0L, await a.ScalarAsync("SELECT count(*) FROM pg_prepared_xacts"));

        await a.ExecAsync("BEGIN; INSERT INTO tp_private VALUES (1); PREPARE TRANSACTION 'tp_uncaptured'");
        await a.ExecAsync("COMMIT PREPARED 'tp_uncaptured'");
        await a.ExecAsync("INSERT INTO tp_published VALUES (2)");
        Assert.Equal(0L, await a.ScalarAsync("SELECT count(*) FROM tp_published WHERE id = 1"));
        Assert.Equal(1L, await a.ScalarAsync("SELECT count(*) FROM pg_logical_slot_get_binary_changes('tp_slot', NULL, NULL, "
            + "'proto_version', '1', 'publication_names', 'tp_pub') WHERE get_byte(data, 0) = ascii('I')"));
    }

    [Fact]
    public async Task A_prepared_transaction_survives_a_restart_on_a_data_directory()
    {
        await using (var a = await OpenAsync())
        {
            await a.ExecAsync("CREATE TABLE tp_durable (id int PRIMARY KEY)");
            await a.ExecAsync("BEGIN; INSERT INTO tp_durable VALUES (1); PREPARE TRANSACTION 'tp_restart'");
        }
        await _server.DisposeAsync();
        _server = await ZeroPgServer.StartAsync(_options, TestLogging.Factory);

        await using var b = await OpenAsync();
        Assert.Equal("tp_restart", await b.ScalarAsync("SELECT gid FROM pg_prepared_xacts"));
        Assert.Equal(0L, await b.ScalarAsync("SELECT count(*) FROM tp_durable"));
        await b.ExecAsync("COMMIT PREPARED 'tp_restart'");
        Assert.Equal(1L, await b.ScalarAsync("SELECT count(*) FROM tp_durable"));
    }
}
