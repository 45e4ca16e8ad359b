using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Storage.Snapshots;

/// <summary>ZeroPgServer.SnapshotAsync / RestoreAsync as a suite that resets between tests uses them, with Npgsql's pool.</summary>
public sealed class SnapshotRestoreTests
{
    [Fact]
    [Trait("Category", "Slow")]
    public async Task Restore_puts_rows_back_in_place_or_swaps_engines_after_a_schema_change_keeping_idle_clients()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { KeepWarmEngine = true }, TestLogging.Factory);
        var pooled = server.GetConnectionString() + ";Timeout=60;Command Timeout=60";
        await using (var setup = new NpgsqlConnection(pooled))
        {
            await setup.OpenAsync();
            await setup.ExecAsync("""
                create table orders (id int generated always as identity primary key, item text);
                create table lines (order_id int references orders, qty int, doubled int generated always as (qty * 2) stored);
                insert into orders (item) values ('seed'); insert into lines (order_id, qty) values (1, 3);
                """);
        }
        await using var snapshot = await server.SnapshotAsync();
        Assert.Equal("postgres", snapshot.Database);
        var engine = server.EngineId;

        // Rows only: they are put back in the running engine. The client holding it in a transaction is terminated.
        await using var idle = new NpgsqlConnection(pooled);
        await idle.OpenAsync();
        await idle.ExecAsync("insert into orders (item) values ('test 1'); update orders set item = 'changed' where id = 1");
        await using var inTransaction = new NpgsqlConnection(pooled);
        await inTransaction.OpenAsync();
        await inTransaction.ExecAsync("begin; insert into orders (item) values ('uncommitted')");

        await server.RestoreAsync(snapshot);

        var terminated = await Assert.ThrowsAsync<PostgresException>(() => inTransaction.ExecAsync("commit"));
        Assert.Equal("57P01", terminated.SqlState);
        Assert.Contains("restored from a snapshot", terminated.Hint);
        Assert.Equal(engine, server.EngineId);
        // orders changed, so lines (which references it) was emptied and refilled too; its generated column computed again.
        Assert.Equal("seed|1:3:6|2", await idle.TextAsync(
            "select string_agg(item, ',') || '|' || (select string_agg(concat_ws(':', order_id, qty, doubled), ',') from lines) || '|' || nextval('orders_id_seq') from orders"));

        // A schema change: the engine is swapped for one started from the snapshot's dump; the idle client stays.
        await idle.ExecAsync("create table scratch (x int); insert into orders (item) values ('test 2')");
        await server.RestoreAsync(snapshot);
        Assert.NotEqual(engine, server.EngineId);
        Assert.Equal("42P01", (await Assert.ThrowsAsync<PostgresException>(() => idle.ExecAsync("select * from scratch"))).SqlState);
        Assert.Equal("1|1", await idle.TextAsync("select count(*) || '|' || (select count(*) from lines) from orders"));

        // Again: this swap takes the engine KeepWarmEngine started from the dump after the last one.
        var swapped = server.EngineId;
        await idle.ExecAsync("alter table orders add column note text");
        await server.RestoreAsync(snapshot);
        Assert.NotEqual(swapped, server.EngineId);
        Assert.Equal("42703", (await Assert.ThrowsAsync<PostgresException>(() => idle.ExecAsync("select note from orders"))).SqlState);

        // And rows again, in the swapped engine. A client that has its answer is done, even while its session still tidies up
        // in the engine: restores right after never terminate it, and its connection goes on from the pool.
        engine = server.EngineId;
        for (var i = 0; i < 5; i++)
        {
            await using (var quick = new NpgsqlConnection(pooled))
            {
                await quick.OpenAsync();
                await quick.ExecAsync("delete from lines; insert into orders (item) values ('quick'); select currval('orders_id_seq')");
            }
            await server.RestoreAsync(snapshot);
        }
        Assert.Equal(engine, server.EngineId);
        await using var fromPool = new NpgsqlConnection(pooled);
        await fromPool.OpenAsync();
        Assert.Equal("1|1|2", await fromPool.TextAsync("select count(*) || '|' || (select count(*) from lines) || '|' || nextval('orders_id_seq') from orders"));
    }

    /// <summary>
    /// A client that once sat in a transaction of the engine a restore swapped out, and is in a transaction of the new
    /// one when the old one closes: the old engine's end is not its engine's death. (It was taken for one, and the
    /// client got FATAL 57P01 at its next statement: Respawn's reset beside RestoreAsync, every time.)
    /// </summary>
    [Fact]
    public async Task The_swapped_out_engine_closing_does_not_end_a_client_in_a_transaction_of_the_new_one()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var connection = new NpgsqlConnection(server.GetConnectionString() + ";Include Error Detail=true");
        await connection.OpenAsync();
        await connection.ExecAsync("create table kept (x int)");
        await using var snapshot = await server.SnapshotAsync();
        var replaced = server.EngineId;
        await connection.ExecAsync("begin; select 1"); // idle in a transaction of the first engine: the session watches that engine
        await connection.ExecAsync("commit");
        await connection.ExecAsync("create table scratch (x int)"); // a schema change: the restore swaps engines

        await server.RestoreAsync(snapshot);
        Assert.NotEqual(replaced, server.EngineId);
        // The replaced engine closes in the background, ~20 ms after the swap: within this statement of the new transaction.
        await connection.ExecAsync("begin; select pg_sleep(1)");
        await connection.ExecAsync("insert into kept values (1)");
        await connection.ExecAsync("commit");
        Assert.Equal("1", await connection.TextAsync("select count(*) from kept"));
    }

    /// <summary>
    /// A memory:// database that slept after its snapshot wakes in another engine, which the snapshot's rows were not taken in:
    /// the restore swaps in an engine started from the snapshot's dump, and rows are put back in place in that one afterwards.
    /// </summary>
    [Fact]
    public async Task A_database_that_slept_after_its_snapshot_is_restored_to_it_awake_or_asleep()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { DatabaseIdleTimeout = TimeSpan.FromSeconds(1) }, TestLogging.Factory);
        await server.ExecAsync("postgres", "CREATE DATABASE napper");
        await server.ExecAsync("napper", "CREATE TABLE visits (who text); INSERT INTO visits VALUES ('snapshot')");
        await using var snapshot = await server.SnapshotAsync("napper");
        var entry = server.Services.Databases.Find("napper")!;
        const string Visits = "SELECT string_agg(who, ',' ORDER BY who) FROM visits";

        await Eventually.WaitUntilAsync(() => entry.SleepingIn is not null, "napper went to sleep after its snapshot", TimeSpan.FromMinutes(1));
        await server.ExecAsync("napper", "INSERT INTO visits VALUES ('awake')");
        await server.RestoreAsync(snapshot);
        Assert.Equal("snapshot", await server.TextAsync("napper", Visits));

        await Eventually.WaitUntilAsync(() => entry.SleepingIn is not null, "napper asleep again", TimeSpan.FromMinutes(1));
        await server.ExecAsync("napper", "INSERT INTO visits VALUES ('asleep next')");
        await Eventually.WaitUntilAsync(() => entry.SleepingIn is not null, "napper asleep with a row the snapshot lacks", TimeSpan.FromMinutes(1));
        await server.RestoreAsync(snapshot); // wakes it for the restore
        Assert.Equal("snapshot", await server.TextAsync("napper", Visits));

        // The rows are put back in place in the engine the last swap started.
        var engine = entry.RunningServices!.Engine.EngineId;
        await using var client = await server.OpenAsync("napper");
        await client.ExecAsync("INSERT INTO visits VALUES ('in place')");
        await server.RestoreAsync(snapshot);
        Assert.Equal("snapshot", await client.TextAsync(Visits));
        Assert.Equal(engine, entry.RunningServices!.Engine.EngineId);
    }

    /// <summary>
    /// TRUNCATE and ALTER SEQUENCE ... RESTART rewrite catalog rows (a new relfilenode) without changing the schema: the restore
    /// still puts the rows back in the running engine. A change held only in pg_class (a table's storage option) still swaps.
    /// </summary>
    [Fact]
    public async Task A_truncate_or_a_sequence_restart_is_put_back_in_place_and_a_table_option_swaps_engines()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var connection = new NpgsqlConnection(server.GetConnectionString());
        await connection.OpenAsync();
        await connection.ExecAsync("""
            create table orders (id int generated by default as identity primary key, item text);
            create table lines (order_id int references orders, qty int);
            create sequence tickets;
            insert into orders (item) values ('seed'), ('second'); insert into lines values (1, 3), (2, 4);
            select nextval('tickets'), nextval('tickets');
            """);
        await using var snapshot = await server.SnapshotAsync();
        var engine = server.EngineId;
        const string State = "select (select string_agg(item, ',' order by id) from orders) || '|' || (select sum(qty) from lines) || '|' || nextval('orders_id_seq') || '|' || nextval('tickets')";

        await connection.ExecAsync("truncate orders, lines restart identity; alter sequence tickets restart; insert into orders (item) values ('test')");
        await server.RestoreAsync(snapshot);
        Assert.Equal(engine, server.EngineId);
        Assert.Equal("seed,second|7|3|3", await connection.TextAsync(State));

        await server.RestoreAsync(snapshot); // the State query moved both sequences
        await connection.ExecAsync("alter table orders set (fillfactor = 50)");
        await server.RestoreAsync(snapshot);
        Assert.NotEqual(engine, server.EngineId);
        Assert.Equal("", await connection.TextAsync("select coalesce(array_to_string(reloptions, ','), '') from pg_class where relname = 'orders'"));
        Assert.Equal("seed,second|7|3|3", await connection.TextAsync(State));
    }

    /// <summary>
    /// A schema with no sequence (uuid keys) keeps its rows in the snapshot, and a temp table gone with its session leaves
    /// only the engine's temp schemas behind: both restores put the rows back in place. (Before: the snapshot's read of
    /// the sequences' values failed on an empty list, so every restore swapped engines; and the temp schemas counted as a
    /// schema change.)
    /// </summary>
    [Fact]
    public async Task A_schema_without_sequences_and_a_finished_temp_table_are_restored_in_place()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        var connectionString = server.GetConnectionString() + ";Pooling=false";
        await using (var setup = new NpgsqlConnection(connectionString))
        {
            await setup.OpenAsync();
            await setup.ExecAsync("create table items (id uuid primary key default gen_random_uuid(), name text); insert into items (name) values ('seed')");
        }
        await using var snapshot = await server.SnapshotAsync();
        var engine = server.EngineId;
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();

        await connection.ExecAsync("insert into items (name) values ('test 1'); update items set name = 'changed' where name = 'seed'");
        await server.RestoreAsync(snapshot);
        Assert.Equal(engine, server.EngineId);
        Assert.Equal("seed", await connection.TextAsync("select string_agg(name, ',') from items"));

        await using (var test = new NpgsqlConnection(connectionString))
        {
            await test.OpenAsync();
            await test.ExecAsync("create temp table batch (name text); insert into batch values ('test 2'); insert into items (name) select name from batch");
        }
        // Its session drops the temp table as it ends, a moment after the client has gone.
        await Eventually.WaitUntilAsync(async () => await connection.TextAsync("select count(*) from pg_class where relpersistence = 't'") == "0",
            "the finished session's temp table dropped", TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(20));
        await server.RestoreAsync(snapshot);
        Assert.Equal(engine, server.EngineId);
        Assert.Equal("seed", await connection.TextAsync("select string_agg(name, ',') from items"));
    }

    /// <summary>
    /// Temp objects belong to sessions, not to the database: a pooled connection's temp table (kept until its next use) and
    /// the temp table ZeroPg keeps for advisory locks do not make a restore swap engines, and the restore leaves them as they
    /// are. (Before: any advisory lock or open temp table taken after the snapshot made every later restore a swap.)
    /// </summary>
    [Fact]
    public async Task Temp_objects_of_open_sessions_and_advisory_locks_leave_the_restore_in_place()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var connection = new NpgsqlConnection(server.GetConnectionString());
        await connection.OpenAsync();
        await connection.ExecAsync("""
            create table items (id int generated by default as identity primary key, name text); insert into items (name) values ('seed');
            create role app login; grant all on items to app; grant all on sequence items_id_seq to app
            """);
        await using var snapshot = await server.SnapshotAsync();
        var engine = server.EngineId;

        await connection.ExecAsync("""
            set role app; create temp table owned_by_app (x int); reset role;
            create temp table batch (name text); insert into batch values ('test');
            select pg_advisory_lock(7); insert into items (name) select name from batch
            """);
        await server.RestoreAsync(snapshot);
        Assert.Equal(engine, server.EngineId);
        Assert.Equal("seed|1", await connection.TextAsync("select string_agg(name, ',') || '|' || (select count(*) from batch) from items"));
        Assert.Equal("True", await connection.TextAsync("select pg_advisory_unlock(7)"));

        // Respawn's reset: a TRUNCATE, and its reseed through a pg_temp function.
        await connection.ExecAsync("""
            insert into items (name) values ('test 2');
            truncate items;
            create or replace function pg_temp.reset_sequence(seq text) returns void as $$ begin execute 'alter sequence ' || seq || ' restart'; end $$ language plpgsql;
            select pg_temp.reset_sequence('items_id_seq');
            """);
        await server.RestoreAsync(snapshot);
        Assert.Equal(engine, server.EngineId);
        Assert.Equal("seed|2", await connection.TextAsync("select string_agg(name, ',') || '|' || nextval('items_id_seq') from items"));
    }
}
