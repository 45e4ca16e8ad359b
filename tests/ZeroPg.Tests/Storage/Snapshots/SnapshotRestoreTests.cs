using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Storage.Snapshots;

/// <summary>ZeroPgServer.SnapshotAsync / RestoreAsync as a suite that resets between tests uses them, with Npgsql's pool.</summary>
public sealed class SnapshotRestoreTests
{
    [Fact]
    [Trait("Category", "Slow")]
    public async Task Restore_brings_back_the_snapshot_keeps_idle_clients_and_terminates_an_open_transaction()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { KeepWarmEngine = true }, TestLogging.Factory);
        var pooled = server.GetConnectionString() + ";Timeout=60;Command Timeout=60";
        await using (var setup = new NpgsqlConnection(pooled))
        {
            await setup.OpenAsync();
            await setup.ExecAsync("create table orders (id serial primary key, item text); insert into orders (item) values ('seed')");
        }
        await using var snapshot = await server.SnapshotAsync();
        Assert.Equal("postgres", snapshot.Database);

        await using var idle = new NpgsqlConnection(pooled);
        await idle.OpenAsync();
        await idle.ExecAsync("insert into orders (item) values ('test 1'); create table scratch (x int)");
        await using var inTransaction = new NpgsqlConnection(pooled);
        await inTransaction.OpenAsync();
        await inTransaction.ExecAsync("begin; insert into orders (item) values ('uncommitted')"); // holds the engine

        await server.RestoreAsync(snapshot);

        var terminated = await Assert.ThrowsAsync<PostgresException>(() => inTransaction.ExecAsync("commit"));
        Assert.Equal("57P01", terminated.SqlState);
        Assert.Contains("restored from a snapshot", terminated.Hint);
        // The idle client stays and sees the snapshot: the row, the table and the sequence as they were.
        Assert.Equal("seed", await idle.TextAsync("select string_agg(item, ',') from orders"));
        Assert.Equal("42P01", (await Assert.ThrowsAsync<PostgresException>(() => idle.ExecAsync("select * from scratch"))).SqlState);
        Assert.Equal("2", await idle.TextAsync("insert into orders (item) values ('test 2') returning id"));

        // Again (the second restore swaps in the engine prepared after the first); a connection from the pool works.
        await server.RestoreAsync(snapshot);
        await using var fromPool = new NpgsqlConnection(pooled);
        await fromPool.OpenAsync();
        Assert.Equal("1|2", await fromPool.TextAsync("select count(*) || '|' || nextval('orders_id_seq') from orders"));
    }
}
