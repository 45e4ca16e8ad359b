using System.Buffers.Binary;
using System.Diagnostics;
using Npgsql;
using Npgsql.Replication.Internal;
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
    public async Task A_prepared_transaction_that_changed_a_published_table_is_decoded_at_its_commit_prepared()
    {
        await using var a = await OpenAsync();
        await using var b = await OpenAsync();
        await a.ExecAsync("CREATE TABLE tp_published (id int PRIMARY KEY, v text); CREATE PUBLICATION tp_pub FOR TABLE tp_published");
        await a.ExecAsync("SELECT pg_create_logical_replication_slot('tp_first', 'pgoutput'), pg_create_logical_replication_slot('tp_second', 'pgoutput')");
        await a.ExecAsync("SELECT pg_create_logical_replication_slot('tp_stream', 'pgoutput')");

        // A walsender streams all along: it reads the transactions committed after the PREPARE before the prepared one commits.
        var received = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var stop = NpgsqlDeadline.After(TimeSpan.FromSeconds(90));
        var stream = Task.Run(async () =>
        {
            await using var replication = new Npgsql.Replication.LogicalReplicationConnection(_server.GetConnectionString());
            await replication.Open();
            var text = new Replication.PgOutputText();
            await foreach (var data in replication.StartLogicalReplication(new StreamSlot("tp_stream"), stop.Token,
                options: [new("proto_version", "1"), new("publication_names", "tp_pub")]))
            {
                using var bytes = new MemoryStream();
                await data.Data.CopyToAsync(bytes, stop.Token);
                received.Enqueue(Describe(text, bytes.ToArray()));
                if (bytes.ToArray()[0] == 'C' && received.Any(m => m.StartsWith("I tp_published N[t:4,", StringComparison.Ordinal)))
                    break;
            }
        });

        var preparedXid = await a.ScalarAsync("BEGIN; INSERT INTO tp_published VALUES (1, 'prepared'); SELECT txid_current()");
        await a.ExecAsync("UPDATE tp_published SET v = 'prepared, updated' WHERE id = 1; PREPARE TRANSACTION 'tp_prepared'");
        await b.ExecAsync("INSERT INTO tp_published VALUES (2, 'after the prepare')");
        await a.ExecAsync("BEGIN; INSERT INTO tp_published VALUES (3, 'rolled back'); PREPARE TRANSACTION 'tp_rolled_back'");
        await b.ExecAsync("ROLLBACK PREPARED 'tp_rolled_back'");
        await Eventually.WaitUntilAsync(() => stream.IsFaulted || received.Any(m => m.StartsWith("I tp_published N[t:2,", StringComparison.Ordinal)),
            "the stream sent the insert after the prepare");
        Assert.False(stream.IsFaulted, stream.Exception?.ToString());
        // Both SQL slots consume past the prepared transaction's rows before it commits.
        Assert.Equal(["I 2"], await ChangesAsync(a, "tp_first"));
        Assert.Equal(["I 2"], await ChangesAsync(a, "tp_second"));

        await b.ExecAsync("COMMIT PREPARED 'tp_prepared'");
        await b.ExecAsync("INSERT INTO tp_published VALUES (4, 'after the commit')");

        // The first slot's read purges what every slot confirmed: the second still gets the prepared transaction's rows.
        var expected = new List<string> { $"B xid={preparedXid}", "I 1", "U 1", "C", "B", "I 4", "C" };
        Assert.Equal(expected, await ChangesAsync(a, "tp_first", withTransactions: true));
        Assert.Equal(expected, await ChangesAsync(a, "tp_second", withTransactions: true));
        Assert.Equal(1L, await a.ScalarAsync("SELECT count(*) FROM tp_published WHERE id = 1"));

        await stream.WaitAsync(TimeSpan.FromSeconds(60));
        // The walsender: the same order, with the prepared transaction's own xid.
        var streamed = received.Where(m => m[0] is 'B' or 'I' or 'U' or 'C')
            .Select(m => m[0] == 'C' ? "C" : m[0] == 'B' && m != $"B xid={preparedXid}" ? "B" : m.Split(',')[0]).ToList();
        Assert.Equal(["B", "I tp_published N[t:2", "C", $"B xid={preparedXid}", "I tp_published N[t:1", "U tp_published N[t:1", "C",
            "B", "I tp_published N[t:4", "C"], streamed);
    }

    private static string Describe(Replication.PgOutputText text, byte[] message)
        => message[0] == 'B' ? $"B xid={BinaryPrimitives.ReadUInt32BigEndian(message.AsSpan(17))}" : text.Describe(message);

    /// <summary>A SQL slot's messages, consumed, short: "I id" / "U id", and with <paramref name="withTransactions"/> B (the first with its xid) and C.</summary>
    private static async Task<List<string>> ChangesAsync(NpgsqlConnection connection, string slot, bool withTransactions = false)
    {
        await using var command = new NpgsqlCommand($"SELECT data FROM pg_logical_slot_get_binary_changes('{slot}', NULL, NULL, 'proto_version', '1', 'publication_names', 'tp_pub')", connection);
        var messages = new List<string>();
        var text = new Replication.PgOutputText();
        var firstBegin = true;
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var data = (byte[])reader[0];
            switch ((char)data[0])
            {
                case 'B' when withTransactions:
                    messages.Add(firstBegin ? Describe(text, data) : "B");
                    firstBegin = false;
                    break;
                case 'C' when withTransactions:
                    messages.Add("C");
                    break;
                case 'I' or 'U':
                    messages.Add($"{(char)data[0]} {text.Describe(data).Split(' ')[2].Split(',')[0].Split(':')[1]}");
                    break;
                case 'R':
                    text.Describe(data);
                    break;
            }
        }
        return messages;
    }

    private sealed class StreamSlot(string name) : Npgsql.Replication.Internal.LogicalReplicationSlot("pgoutput", new Npgsql.Replication.ReplicationSlotOptions(name));

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
