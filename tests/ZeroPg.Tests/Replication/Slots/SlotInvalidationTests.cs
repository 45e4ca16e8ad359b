using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.PgOutput;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Replication.Slots;

/// <summary>
/// Bounded cost: captured changes go once every slot confirmed them, and a slot further behind than max_slot_wal_keep_size
/// (here -c max_slot_wal_keep_size=1MB) is invalidated as Postgres does it: wal_status 'lost', invalidation_reason 'wal_removed',
/// and START_REPLICATION, peek and advance refused with 55000 "can no longer access replication slot"; /metrics shows it.
/// </summary>
[Trait("Category", "Slow")]
public sealed class SlotInvalidationTests : IAsyncLifetime
{
    private ZeroPgServer _server = null!;

    public async Task InitializeAsync() => _server = await ZeroPgServer.StartAsync(
        new ZeroPgOptions { HttpPort = 0, PostgresSettings = { ["max_slot_wal_keep_size"] = "1MB" } }, TestLogging.Factory);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(_server.GetConnectionString() + ";Pooling=false;Command Timeout=120");
        await connection.OpenAsync();
        return connection;
    }

    [Fact]
    public async Task Confirmed_changes_are_purged_and_a_slot_too_far_behind_is_lost()
    {
        await using var c = await OpenAsync();
        Assert.Equal("1MB", await c.ScalarAsync("SHOW max_slot_wal_keep_size"));
        await c.ExecAsync("CREATE TABLE inv_t (id int PRIMARY KEY, pad text); CREATE PUBLICATION inv_pub FOR TABLE inv_t");
        await c.ExecAsync("SELECT pg_create_logical_replication_slot('inv_read', 'pgoutput')");
        await c.ExecAsync("INSERT INTO inv_t VALUES (1, 'a'); INSERT INTO inv_t VALUES (2, 'b')");
        Assert.Equal(2L, await c.ScalarAsync("SELECT count(*) FROM zeropg_repl.changes"));
        await c.ExecAsync("SELECT count(*) FROM pg_logical_slot_get_binary_changes('inv_read', NULL, NULL, 'proto_version', '1', 'publication_names', 'inv_pub')");
        Assert.Equal(0L, await c.ScalarAsync("SELECT count(*) FROM zeropg_repl.changes")); // every slot confirmed them
        await c.ExecAsync("SELECT pg_drop_replication_slot('inv_read')");

        await c.ExecAsync("SELECT pg_create_logical_replication_slot('inv_lost', 'pgoutput')");
        await c.ExecAsync("INSERT INTO inv_t SELECT g, repeat('x', 1000) FROM generate_series(10, 3009) g"); // ~3 MB of WAL
        await using (var row = new NpgsqlCommand("SELECT wal_status, invalidation_reason, restart_lsn IS NULL, safe_wal_size IS NULL, active " +
            "FROM pg_replication_slots WHERE slot_name = 'inv_lost'", c))
        await using (var reader = await row.ExecuteReaderAsync())
        {
            Assert.True(await reader.ReadAsync());
            Assert.Equal("lost", reader.GetString(0));
            Assert.Equal("wal_removed", reader.GetString(1));
            Assert.True(reader.GetBoolean(2));
            Assert.True(reader.GetBoolean(3));
            Assert.False(reader.GetBoolean(4));
        }
        // Maintenance runs every 1024 captured changes: what an invalidated slot kept is gone but for the last interval.
        Assert.True((long)(await c.ScalarAsync("SELECT count(*) FROM zeropg_repl.changes"))! < 1024);

        await using (var repl = new LogicalReplicationConnection(_server.GetConnectionString() + ";Pooling=false;Include Error Detail=true"))
        {
            await repl.Open();
            using var stop = NpgsqlDeadline.After(TimeSpan.FromSeconds(30));
            var refused = await Assert.ThrowsAsync<PostgresException>(async () =>
            {
                await foreach (var _ in repl.StartReplication(new PgOutputReplicationSlot("inv_lost"), new PgOutputReplicationOptions("inv_pub", PgOutputProtocolVersion.V1), stop.Token))
                {
                }
            });
            Assert.Equal("55000", refused.SqlState);
            Assert.Equal("can no longer access replication slot \"inv_lost\"", refused.MessageText);
            Assert.Equal("This replication slot has been invalidated due to \"wal_removed\".", refused.Detail);
        }
        var peek = await Assert.ThrowsAsync<PostgresException>(() =>
            c.ExecAsync("SELECT * FROM pg_logical_slot_peek_binary_changes('inv_lost', NULL, NULL, 'proto_version', '1', 'publication_names', 'inv_pub')"));
        Assert.Equal(("55000", "can no longer access replication slot \"inv_lost\""), (peek.SqlState, peek.MessageText));
        Assert.Equal("55000", (await Assert.ThrowsAsync<PostgresException>(() => c.ExecAsync("SELECT pg_replication_slot_advance('inv_lost', pg_current_wal_lsn())"))).SqlState);

        using var http = new HttpClient();
        var metrics = await http.GetStringAsync($"http://127.0.0.1:{_server.HttpPort}/metrics");
        Assert.Contains("zeropg_replication_slots 1\n", metrics);
        Assert.Contains("zeropg_replication_slot_lost{database=\"postgres\",slot=\"inv_lost\"} 1\n", metrics);
        Assert.Matches("zeropg_replication_slot_lag_bytes\\{database=\"postgres\",slot=\"inv_lost\"\\} [1-9][0-9]{6,}\n", metrics);

        await c.ExecAsync("SELECT pg_drop_replication_slot('inv_lost')"); // an invalidated slot can be dropped
        Assert.Equal(0L, await c.ScalarAsync("SELECT count(*) FROM zeropg_repl.changes"));
        Assert.Contains("zeropg_replication_slots 0\n", await http.GetStringAsync($"http://127.0.0.1:{_server.HttpPort}/metrics"));
    }
}
