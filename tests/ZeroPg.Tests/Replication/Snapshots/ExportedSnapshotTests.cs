using System.Diagnostics;
using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.PgOutput;
using Npgsql.Replication.PgOutput.Messages;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Replication.Snapshots;

/// <summary>
/// CREATE_REPLICATION_SLOT with an exported snapshot (Npgsql's default) and SET TRANSACTION SNAPSHOT in other connections:
/// the initial copy plus the stream give exactly the source, while other clients write.
/// </summary>
[Collection(ServerCollection.Name)]
[Trait("Category", "Slow")]
public class ExportedSnapshotTests(ServerFixture fixture)
{
    private async Task<LogicalReplicationConnection> OpenReplicationAsync()
    {
        // 90 s: room for a loaded 2-core CI machine. CREATE_REPLICATION_SLOT beside two writers that never pause once took 30 s
        // there: a writer kept the walsender's question unanswered while it waited for the engine (see the advisory-lock test).
        var connection = new LogicalReplicationConnection(fixture.ConnectionString + ";Pooling=false;Command Timeout=90");
        await connection.Open();
        return connection;
    }

    private static async Task<Dictionary<int, int>> CopyAsync(NpgsqlConnection connection, string table)
    {
        var rows = new Dictionary<int, int>();
        await using var reader = await connection.BeginBinaryExportAsync($"COPY (SELECT id, v FROM {table}) TO STDOUT (FORMAT binary)");
        while (await reader.StartRowAsync() >= 0)
            rows.Add(await reader.ReadAsync<int>(), await reader.ReadAsync<int>());
        return rows;
    }

    private static async Task<Dictionary<int, int>> ImportAndCopyAsync(NpgsqlConnection connection, string snapshot, string table)
    {
        await connection.ExecAsync("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
        await connection.ExecAsync($"SET TRANSACTION SNAPSHOT '{snapshot}'");
        var rows = await CopyAsync(connection, table);
        await connection.ExecAsync("COMMIT");
        return rows;
    }

    private static async Task<List<string?>> ValuesAsync(ReplicationTuple tuple)
    {
        var values = new List<string?>();
        await foreach (var value in tuple)
            values.Add(value.IsDBNull ? null : await value.Get<string>());
        return values;
    }

    [Fact]
    public async Task Copy_at_the_exported_snapshot_plus_the_stream_equals_the_source_while_others_write()
    {
        await using var setup = await fixture.OpenAsync();
        await setup.ExecAsync("CREATE TABLE snap_items (id int PRIMARY KEY, v int NOT NULL); CREATE TABLE snap_marks (id int PRIMARY KEY);"
            + " CREATE PUBLICATION snap_pub FOR TABLE snap_items, snap_marks;"
            + " INSERT INTO snap_items SELECT g, g FROM generate_series(1, 300) g");

        // Two writers commit all along: inserts, updates and deletes, some transactions of several statements.
        using var stop = NpgsqlDeadline.After(TimeSpan.FromSeconds(60));
        var committed = new int[2];
        var writers = Enumerable.Range(0, 2).Select(w => Task.Run(async () =>
        {
            await using var c = await fixture.OpenAsync();
            var next = 1000 + w * 100_000;
            while (!stop.IsCancellationRequested)
            {
                next++;
                await c.ExecAsync($"BEGIN; INSERT INTO snap_items VALUES ({next}, 0); UPDATE snap_items SET v = v + 1 WHERE id = {next % 300 + 1};"
                    + $" DELETE FROM snap_items WHERE id = {next - 3}; COMMIT");
                await c.ExecAsync($"UPDATE snap_items SET v = v + 10 WHERE id = {next - 1}");
                Interlocked.Increment(ref committed[w]);
            }
        })).ToList();
        await Eventually.WaitUntilAsync(() => committed[0] > 5 && committed[1] > 5, "both writers committing");

        await using var repl = await OpenReplicationAsync();
        var slot = await repl.CreatePgOutputReplicationSlot("snap_slot", temporarySlot: true); // exported snapshot: Npgsql's default
        Assert.Matches("^[0-9A-F]{8}-[0-9A-F]{8}-1$", slot.SnapshotName!);
        var atExport = committed.Sum();

        // Two copiers at the snapshot, as zero-cache's copy workers: both see the same rows.
        await using var copier1 = await fixture.OpenAsync();
        await using var copier2 = await fixture.OpenAsync();
        var copies = await Task.WhenAll(ImportAndCopyAsync(copier1, slot.SnapshotName!, "snap_items"), ImportAndCopyAsync(copier2, slot.SnapshotName!, "snap_items"));
        Assert.Equal(copies[0].OrderBy(e => e.Key), copies[1].OrderBy(e => e.Key));
        var replica = copies[0];
        Assert.True(replica.Count > 250, $"copied {replica.Count} rows");

        // The writers go on after the copy; then they stop and a marker ends what the stream must deliver.
        await Eventually.WaitUntilAsync(() => committed.Sum() > atExport + 20, "writers committing after the copy", TimeSpan.FromSeconds(30));
        await stop.CancelAsync();
        await Task.WhenAll(writers.Select(w => w.ContinueWith(_ => { })));
        foreach (var writer in writers)
            Assert.True(writer.IsCompletedSuccessfully || writer.Exception?.InnerException is OperationCanceledException or NpgsqlException { InnerException: OperationCanceledException },
                writer.Exception?.ToString());
        await setup.ExecAsync("INSERT INTO snap_marks VALUES (1)");

        // The stream (its START_REPLICATION ends the snapshot) applied to the copy: an insert of a row the copy has, or an
        // update or delete of one it lacks, would be a change doubled or lost.
        var streamed = 0;
        using var streaming = NpgsqlDeadline.After(TimeSpan.FromSeconds(60));
        await foreach (var message in repl.StartReplication(slot, new PgOutputReplicationOptions("snap_pub", PgOutputProtocolVersion.V1), streaming.Token))
        {
            switch (message)
            {
                case InsertMessage insert when insert.Relation.RelationName == "snap_marks":
                    goto done;
                case InsertMessage insert:
                {
                    var row = await ValuesAsync(insert.NewRow);
                    Assert.True(replica.TryAdd(int.Parse(row[0]!), int.Parse(row[1]!)), $"insert of {row[0]}, already copied");
                    streamed++;
                    break;
                }
                case UpdateMessage update:
                {
                    var row = await ValuesAsync(update.NewRow);
                    var id = int.Parse(row[0]!);
                    Assert.True(replica.ContainsKey(id), $"update of {id}, not copied");
                    replica[id] = int.Parse(row[1]!);
                    streamed++;
                    break;
                }
                case KeyDeleteMessage delete:
                {
                    var id = int.Parse((await ValuesAsync(delete.Key))[0]!);
                    Assert.True(replica.Remove(id), $"delete of {id}, not copied");
                    streamed++;
                    break;
                }
            }
            repl.SetReplicationStatus(message.WalEnd);
        }
        done:
        Assert.True(streamed > 20, $"only {streamed} changes streamed after the snapshot");
        var source = await CopyAsync(setup, "snap_items");
        Assert.Equal(source.OrderBy(e => e.Key), replica.OrderBy(e => e.Key));
    }

    [Fact]
    public async Task A_client_that_gives_the_engine_up_to_wait_does_not_stall_the_slot_that_asked_it_for_the_wal_position()
    {
        // The waiter holds the engine when the slot is asked for, so the walsender asks it for the WAL position (it might be
        // inside a transaction that waits for the slot). Its statement then finds the advisory lock taken: it gives the engine
        // up, waits, and asks for the engine again, behind the snapshot that only the walsender may pass. A waiter that kept
        // the question unanswered meanwhile left both waiting for good (as a writer between two commands once did on CI,
        // until its command timeout cancelled its wait 30 s later).
        await using var locker = await fixture.OpenAsync();
        await locker.ExecAsync("SELECT pg_catalog.pg_advisory_lock(4242)");
        await using var repl = new LogicalReplicationConnection(fixture.ConnectionString + ";Pooling=false;Command Timeout=20");
        await repl.Open();
        await using var waiter = await fixture.OpenAsync();
        var waiting = waiter.ExecAsync("SELECT pg_catalog.pg_sleep(1), pg_catalog.pg_advisory_lock(4242)");
        await EngineProbe.RunningAsync(fixture.Server);

        var slot = await repl.CreatePgOutputReplicationSlot("snap_waiter_slot", temporarySlot: true);
        Assert.NotNull(slot.SnapshotName);
        await repl.IdentifySystem(); // the snapshot ends: everyone goes on
        await locker.ExecAsync("SELECT pg_catalog.pg_advisory_unlock(4242)");
        await waiting.WaitAsync(TimeSpan.FromSeconds(20));
        await waiter.ExecAsync("SELECT pg_catalog.pg_advisory_unlock(4242)");
    }

    [Fact]
    public async Task Imports_fail_as_in_postgres_and_a_snapshot_ends_with_the_exporters_next_command()
    {
        await using var c = await fixture.OpenAsync();
        await c.ExecAsync("BEGIN ISOLATION LEVEL REPEATABLE READ");
        // The engine's own errors (Postgres 18: a well-formed name it does not know is 42704; PG 15 said 22023 for both).
        var unknown = await Assert.ThrowsAsync<PostgresException>(() => c.ExecAsync("SET TRANSACTION SNAPSHOT '00000003-0000001B-1'"));
        Assert.Equal(("42704", "snapshot \"00000003-0000001B-1\" does not exist"), (unknown.SqlState, unknown.MessageText));
        await c.ExecAsync("ROLLBACK");
        await c.ExecAsync("BEGIN ISOLATION LEVEL REPEATABLE READ");
        var malformed = await Assert.ThrowsAsync<PostgresException>(() => c.ExecAsync("SET TRANSACTION SNAPSHOT 'no-such'"));
        Assert.Equal(("22023", "invalid snapshot identifier: \"no-such\""), (malformed.SqlState, malformed.MessageText));
        await c.ExecAsync("ROLLBACK");

        await using var repl = await OpenReplicationAsync();
        var slot = await repl.CreatePgOutputReplicationSlot("snap_err_slot", temporarySlot: true);
        await c.ExecAsync("BEGIN"); // READ COMMITTED
        var committed = await Assert.ThrowsAsync<PostgresException>(() => c.ExecAsync($"SET TRANSACTION SNAPSHOT '{slot.SnapshotName}'"));
        Assert.Equal(("0A000", "a snapshot-importing transaction must have isolation level SERIALIZABLE or REPEATABLE READ"), (committed.SqlState, committed.MessageText));
        await c.ExecAsync("ROLLBACK");
        await c.ExecAsync("BEGIN ISOLATION LEVEL SERIALIZABLE");
        await c.ExecAsync($"SET TRANSACTION SNAPSHOT '{slot.SnapshotName}'"); // valid still: the exporter ran nothing, nobody wrote
        await c.ExecAsync("COMMIT");
        await c.ExecAsync("BEGIN ISOLATION LEVEL REPEATABLE READ; CREATE TEMP TABLE snap_err_tmp (x int)");
        var late = await Assert.ThrowsAsync<PostgresException>(() => c.ExecAsync($"SET TRANSACTION SNAPSHOT '{slot.SnapshotName}'"));
        Assert.Equal(("25001", "SET TRANSACTION SNAPSHOT must be called before any query"), (late.SqlState, late.MessageText));
        await c.ExecAsync("ROLLBACK"); // its transaction id makes the snapshot stale: what ZeroPg checks

        await repl.IdentifySystem(); // the exporter's next command: the snapshot is gone
        await c.ExecAsync("BEGIN ISOLATION LEVEL REPEATABLE READ");
        var gone = await Assert.ThrowsAsync<PostgresException>(() => c.ExecAsync($"SET TRANSACTION SNAPSHOT '{slot.SnapshotName}'"));
        Assert.Equal(("42704", $"snapshot \"{slot.SnapshotName}\" does not exist"), (gone.SqlState, gone.MessageText));
        await c.ExecAsync("ROLLBACK");
    }

    [Fact]
    public async Task A_snapshot_nobody_imports_holds_writers_only_for_the_hold_and_then_goes_stale()
    {
        await using var c = await fixture.OpenAsync();
        await c.ExecAsync("CREATE TABLE snap_idle (id int PRIMARY KEY, v int NOT NULL)");
        await using var repl = await OpenReplicationAsync();
        var slot = await repl.CreatePgOutputReplicationSlot("snap_idle_slot", temporarySlot: true);

        var clock = Stopwatch.StartNew();
        await c.ExecAsync("INSERT INTO snap_idle VALUES (1, 1)"); // waits for the hold (2 s by default), then goes in
        Assert.True(clock.Elapsed > TimeSpan.FromSeconds(1), $"the write did not wait for the snapshot's importers ({clock.Elapsed})");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"the write waited {clock.Elapsed}");

        await using var importer = await fixture.OpenAsync("Include Error Detail=true");
        await importer.ExecAsync("BEGIN ISOLATION LEVEL REPEATABLE READ");
        var stale = await Assert.ThrowsAsync<PostgresException>(() => importer.ExecAsync($"SET TRANSACTION SNAPSHOT '{slot.SnapshotName}'"));
        Assert.Equal(("42704", $"snapshot \"{slot.SnapshotName}\" does not exist"), (stale.SqlState, stale.MessageText));
        Assert.Contains("Another transaction wrote to the database after the snapshot was exported", stale.Detail);
        await importer.ExecAsync("ROLLBACK");
    }

    [Fact]
    public async Task A_slot_made_from_inside_another_connections_transaction_holds_what_it_commits_and_the_stream_skips_it()
    {
        await using var c = await fixture.OpenAsync();
        await c.ExecAsync("CREATE TABLE snap_tx (id int PRIMARY KEY, v int NOT NULL); CREATE PUBLICATION snap_tx_pub FOR TABLE snap_tx;"
            + " INSERT INTO snap_tx VALUES (1, 1)");
        await using var repl = await OpenReplicationAsync();

        // zero-cache makes its slot while a transaction of its own holds the engine, and writes in it after the reply.
        await c.ExecAsync("BEGIN; SELECT 1 FROM snap_tx");
        var creating = repl.CreatePgOutputReplicationSlot("snap_tx_slot", temporarySlot: true);
        var slot = await creating.WaitAsync(TimeSpan.FromSeconds(30));
        await c.ExecAsync("INSERT INTO snap_tx VALUES (2, 2); COMMIT");

        await using var copier = await fixture.OpenAsync();
        var copy = await ImportAndCopyAsync(copier, slot.SnapshotName!, "snap_tx");
        Assert.Equal([1, 2], copy.Keys.Order());
        await c.ExecAsync("INSERT INTO snap_tx VALUES (3, 3)");

        var seen = new List<string?>();
        using var streaming = NpgsqlDeadline.After(TimeSpan.FromSeconds(30));
        await foreach (var message in repl.StartReplication(slot, new PgOutputReplicationOptions("snap_tx_pub", PgOutputProtocolVersion.V1), streaming.Token))
        {
            if (message is InsertMessage insert)
            {
                seen.Add((await ValuesAsync(insert.NewRow))[0]);
                break;
            }
        }
        Assert.Equal(["3"], seen); // 2 is in the copy: not sent again
    }
}
