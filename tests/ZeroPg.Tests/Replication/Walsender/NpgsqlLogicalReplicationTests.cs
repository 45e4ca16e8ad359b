using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.PgOutput;
using Npgsql.Replication.PgOutput.Messages;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Replication.Walsender;

/// <summary>Npgsql's LogicalReplicationConnection with PgOutputReplicationPlugin against a ZeroPg server.</summary>
[Collection(ServerCollection.Name)]
[Trait("Category", "Slow")]
public class NpgsqlLogicalReplicationTests(ServerFixture fixture)
{
    private async Task<LogicalReplicationConnection> OpenReplicationAsync()
    {
        var connection = new LogicalReplicationConnection(fixture.ConnectionString + ";Pooling=false");
        await connection.Open();
        return connection;
    }

    private static async Task<string> DescribeAsync(PgOutputReplicationMessage message)
    {
        async Task<string> Row(ReplicationTuple tuple)
        {
            var values = new List<string>();
            await foreach (var value in tuple)
                values.Add(value.IsDBNull ? "NULL" : await value.Get<string>());
            return string.Join(",", values);
        }
        return message switch
        {
            BeginMessage b => $"B",
            CommitMessage => "C",
            RelationMessage r => $"R {r.RelationName}",
            InsertMessage i => $"I {await Row(i.NewRow)}",
            FullUpdateMessage u => $"U {await Row(u.OldRow)} -> {await Row(u.NewRow)}",
            IndexUpdateMessage u => $"UK {await Row(u.Key)} -> {await Row(u.NewRow)}",
            UpdateMessage u => $"U {await Row(u.NewRow)}",
            KeyDeleteMessage d => $"D {await Row(d.Key)}",
            FullDeleteMessage d => $"DF {await Row(d.OldRow)}",
            TruncateMessage t => $"T {t.Relations.Count}",
            LogicalDecodingMessage m => $"M {(m.Flags & 1) == 1} {m.Prefix} {await new StreamReader(m.Data).ReadToEndAsync()}",
            _ => message.GetType().Name,
        };
    }

    /// <summary>Reads messages until <paramref name="commits"/> transactions were read, confirming each message as Npgsql consumers do.</summary>
    private static async Task<(List<string> Seen, List<uint> Xids)> ReadUntilAsync(LogicalReplicationConnection repl, PgOutputReplicationSlot slot,
        string publication, int commits, CancellationTokenSource stop, bool confirm)
    {
        var seen = new List<string>();
        var xids = new List<uint>();
        await foreach (var message in repl.StartReplication(slot, new PgOutputReplicationOptions(publication, PgOutputProtocolVersion.V1), stop.Token))
        {
            if (message is BeginMessage begin)
                xids.Add(begin.TransactionXid);
            seen.Add(await DescribeAsync(message));
            if (confirm)
            {
                repl.SetReplicationStatus(message.WalEnd);
                await repl.SendStatusUpdate(stop.Token);
            }
            if (message is CommitMessage && --commits == 0)
                break;
        }
        return (seen, xids);
    }

    [Fact]
    public async Task Streams_committed_changes_and_resumes_after_the_confirmed_position()
    {
        await using var c = await fixture.OpenAsync();
        await c.ExecAsync("CREATE TABLE np_items (id int PRIMARY KEY, name text); CREATE PUBLICATION np_pub FOR TABLE np_items");
        await using (var repl = await OpenReplicationAsync())
        {
            var slot = await repl.CreatePgOutputReplicationSlot("np_slot", slotSnapshotInitMode: LogicalSlotSnapshotInitMode.NoExport);

            await c.ExecAsync("INSERT INTO np_items VALUES (1, 'a'), (2, NULL)");
            var xid = Convert.ToUInt32(await new NpgsqlCommand("BEGIN; INSERT INTO np_items VALUES (9, 'rolled back'); SELECT txid_current()", c).ExecuteScalarAsync());
            await c.ExecAsync("ROLLBACK");
            await using (var tx = await c.BeginTransactionAsync())
            {
                await c.ExecAsync("UPDATE np_items SET name = 'b' WHERE id = 1; UPDATE np_items SET id = 3 WHERE id = 2");
                await c.ExecAsync("DELETE FROM np_items WHERE id = 1");
                await tx.CommitAsync();
            }

            using var stop = NpgsqlDeadline.After(TimeSpan.FromSeconds(60));
            var (seen, xids) = await ReadUntilAsync(repl, slot, "np_pub", 2, stop, confirm: true);
            Assert.Equal(["B", "R np_items", "I 1,a", "I 2,NULL", "C", "B", "U 1,b", "UK 2,NULL -> 3,NULL", "D 1,NULL", "C"], seen);
            Assert.DoesNotContain(xid, xids);
            Assert.True(xids[1] > xids[0]);

            // Both commits confirmed: wait for the position to reach the slot (written by the stream's next poll).
            var confirmed = repl.LastFlushedLsn.ToString();
            await Eventually.WaitUntilAsync(async () => Convert.ToBoolean(await new NpgsqlCommand(
                $"SELECT confirmed_flush_lsn >= '{confirmed}' FROM zeropg_repl.slots WHERE slot_name = 'np_slot'", c).ExecuteScalarAsync()), "the slot's position moved");
        }

        // Reconnect at 0/0: the confirmed transactions are not sent again; the new one is.
        await c.ExecAsync("INSERT INTO np_items VALUES (4, 'after')");
        await using (var repl = await OpenReplicationAsync())
        {
            using var stop = NpgsqlDeadline.After(TimeSpan.FromSeconds(60));
            var (seen, _) = await ReadUntilAsync(repl, new PgOutputReplicationSlot("np_slot"), "np_pub", 1, stop, confirm: false);
            Assert.Equal(["B", "R np_items", "I 4,after", "C"], seen);
        }

        // Not confirmed: sent again after a reconnect.
        await using (var repl = await OpenReplicationAsync())
        {
            using var stop = NpgsqlDeadline.After(TimeSpan.FromSeconds(60));
            var (seen, _) = await ReadUntilAsync(repl, new PgOutputReplicationSlot("np_slot"), "np_pub", 1, stop, confirm: false);
            Assert.Contains("I 4,after", seen);
        }

        // WAIT: until the walsender of the connection just closed has let the slot go.
        await using (var repl = await OpenReplicationAsync())
            await repl.DropReplicationSlot("np_slot", wait: true);
        Assert.Equal(0L, await new NpgsqlCommand("SELECT count(*) FROM zeropg_repl.slots WHERE slot_name = 'np_slot'", c).ExecuteScalarAsync());
    }

    [Fact]
    public async Task All_tables_publication_messages_truncate_and_a_changed_table()
    {
        await using var c = await fixture.OpenAsync();
        await c.ExecAsync("CREATE TABLE np_all_a (id int PRIMARY KEY, v text); CREATE PUBLICATION np_all_pub FOR ALL TABLES");
        await using var repl = await OpenReplicationAsync();
        var slot = await repl.CreatePgOutputReplicationSlot("np_all_slot", temporarySlot: true, slotSnapshotInitMode: LogicalSlotSnapshotInitMode.NoExport);

        await c.ExecAsync("CREATE TABLE np_all_later (k text PRIMARY KEY)"); // created after the publication: captured too
        await c.ExecAsync("BEGIN; INSERT INTO np_all_later VALUES ('x'); SELECT pg_logical_emit_message(true, 'app', 'hello'); COMMIT");
        await c.ExecAsync("SELECT pg_logical_emit_message(false, 'beat', 'b')");
        await c.ExecAsync("INSERT INTO np_all_a VALUES (1, 'one')");
        await c.ExecAsync("ALTER TABLE np_all_a ADD COLUMN extra int DEFAULT 7");
        await c.ExecAsync("INSERT INTO np_all_a VALUES (2, 'two')");
        await c.ExecAsync("TRUNCATE np_all_a");

        // Other tests of this shared server create tables later: they must not be captured.
        await c.ExecAsync("DROP PUBLICATION np_all_pub; CREATE PUBLICATION np_all_pub FOR TABLE np_all_a, np_all_later");

        using var stop = NpgsqlDeadline.After(TimeSpan.FromSeconds(60));
        var seen = new List<string>();
        var commits = 0;
        await foreach (var message in repl.StartReplication(slot, new PgOutputReplicationOptions("np_all_pub", PgOutputProtocolVersion.V1, messages: true), stop.Token))
        {
            var text = await DescribeAsync(message);
            if (message is RelationMessage r)
                text += $" ({string.Join(",", r.Columns.Select(col => col.ColumnName))})";
            seen.Add(text);
            if (message is CommitMessage && ++commits == 4)
                break;
        }
        Assert.Equal([
            "B", "R np_all_later (k)", "I x", "M True app hello", "C",
            "M False beat b",
            "B", "R np_all_a (id,v)", "I 1,one", "C",
            "B", "R np_all_a (id,v,extra)", "I 2,two,7", "C",
            "B", "R np_all_a (id,v,extra)", "T 1", "C"], seen); // a TRUNCATE sends its table's Relation again, as pgoutput does
    }

    [Fact]
    public async Task Binary_values_are_the_send_functions_bytes()
    {
        await using var c = await fixture.OpenAsync();
        await c.ExecAsync("CREATE TABLE np_bin (id int PRIMARY KEY, amount numeric(10,2), at timestamptz, tags text[], note text); CREATE PUBLICATION np_bin_pub FOR TABLE np_bin");
        await using var repl = await OpenReplicationAsync();
        var slot = await repl.CreatePgOutputReplicationSlot("np_bin_slot", temporarySlot: true, slotSnapshotInitMode: LogicalSlotSnapshotInitMode.NoExport);
        await c.ExecAsync("INSERT INTO np_bin VALUES (7, 12.5, '2026-01-02 03:04:05+00', '{a,\"b c\"}', NULL)");
        await c.ExecAsync("UPDATE np_bin SET id = 8 WHERE id = 7");

        using var stop = NpgsqlDeadline.After(TimeSpan.FromSeconds(60));
        var inserted = new List<object?>();
        var keys = new List<object?>();
        await foreach (var message in repl.StartReplication(slot, new PgOutputReplicationOptions("np_bin_pub", PgOutputProtocolVersion.V1, binary: true), stop.Token))
        {
            if (message is InsertMessage insert)
            {
                await foreach (var value in insert.NewRow)
                {
                    if (!value.IsDBNull)
                        Assert.Equal(TupleDataKind.BinaryValue, value.Kind);
                    inserted.Add(value.IsDBNull ? null : await value.Get<object>());
                }
            }
            if (message is IndexUpdateMessage update)
            {
                await foreach (var value in update.Key)
                    keys.Add(value.IsDBNull ? null : await value.Get<object>());
                await foreach (var _ in update.NewRow) { }
                break;
            }
        }
        Assert.Equal(7, inserted[0]);
        Assert.Equal(12.5m, inserted[1]);
        Assert.Equal(new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc), inserted[2]);
        Assert.Equal(new[] { "a", "b c" }, inserted[3]);
        Assert.Null(inserted[4]);
        Assert.Equal(7, keys[0]);
    }

    [Fact]
    public async Task Cancelling_the_stream_leaves_the_connection_usable()
    {
        await using var c = await fixture.OpenAsync();
        await c.ExecAsync("CREATE TABLE np_cancel (id int PRIMARY KEY); CREATE PUBLICATION np_cancel_pub FOR TABLE np_cancel");
        await using var repl = await OpenReplicationAsync();
        var slot = await repl.CreatePgOutputReplicationSlot("np_cancel_slot", temporarySlot: true, slotSnapshotInitMode: LogicalSlotSnapshotInitMode.NoExport);
        await c.ExecAsync("INSERT INTO np_cancel VALUES (1)");
        using var stop = NpgsqlDeadline.After(TimeSpan.FromSeconds(60));
        var seen = new List<string>();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var message in repl.StartReplication(slot, new PgOutputReplicationOptions("np_cancel_pub", PgOutputProtocolVersion.V1), stop.Token))
            {
                seen.Add(await DescribeAsync(message));
                if (message is CommitMessage)
                    await stop.CancelAsync();
            }
        });
        Assert.Equal(["B", "R np_cancel", "I 1", "C"], seen);
        var system = await repl.IdentifySystem();
        Assert.Equal("postgres", system.DbName);
        Assert.Equal(1u, system.Timeline);
    }

    [Fact]
    public async Task Replication_needs_the_REPLICATION_attribute()
    {
        await using var c = await fixture.OpenAsync();
        await c.ExecAsync("CREATE ROLE np_plain LOGIN; CREATE ROLE np_repl LOGIN REPLICATION");
        var plain = new LogicalReplicationConnection(fixture.ConnectionString + ";Pooling=false;Username=np_plain");
        var error = await Assert.ThrowsAsync<PostgresException>(() => plain.Open());
        Assert.Equal("42501", error.SqlState);
        await plain.DisposeAsync();

        await using var repl = new LogicalReplicationConnection(fixture.ConnectionString + ";Pooling=false;Username=np_repl");
        await repl.Open();
        var exported = await repl.CreatePgOutputReplicationSlot("np_export", temporarySlot: true);
        Assert.NotNull(exported.SnapshotName);
        Assert.Equal("logical", await new NpgsqlCommand("SELECT current_setting('wal_level')", c).ExecuteScalarAsync());
    }
}
