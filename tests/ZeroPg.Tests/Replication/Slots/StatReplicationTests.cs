using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.PgOutput;
using Npgsql.Replication.PgOutput.Messages;
using NpgsqlTypes;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Replication.Slots;

/// <summary>A streaming walsender as other sessions see it: active in pg_replication_slots, a row of pg_stat_replication with its
/// client's pid and positions, its slot refused to others; pg_terminate_backend(active_pid) ends its stream with FATAL 57P01
/// (what zero-cache does to take a slot over).</summary>
[Collection(ServerCollection.Name)]
[Trait("Category", "Slow")]
public class StatReplicationTests(ServerFixture fixture)
{
    [Fact]
    public async Task A_streaming_walsender_shows_in_the_views_and_pg_terminate_backend_ends_it()
    {
        await using var c = await fixture.OpenAsync();
        await c.ExecAsync("CREATE TABLE sr_t (id int PRIMARY KEY); CREATE PUBLICATION sr_pub FOR TABLE sr_t");
        await c.ExecAsync("SELECT pg_create_logical_replication_slot('sr_slot', 'pgoutput')");
        await using var repl = new LogicalReplicationConnection(fixture.ConnectionString + ";Pooling=false;Application Name=sr_consumer");
        await repl.Open();
        using var stop = NpgsqlDeadline.After(TimeSpan.FromSeconds(60));
        var committed = new TaskCompletionSource<NpgsqlLogSequenceNumber>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stream = Task.Run(async () =>
        {
            await foreach (var message in repl.StartReplication(new PgOutputReplicationSlot("sr_slot"), new PgOutputReplicationOptions("sr_pub", PgOutputProtocolVersion.V1), stop.Token))
            {
                if (message is not CommitMessage)
                    continue;
                repl.SetReplicationStatus(message.WalEnd);
                await repl.SendStatusUpdate(stop.Token);
                committed.TrySetResult(message.WalEnd);
            }
        });

        await Eventually.WaitUntilAsync(async () => await c.ScalarAsync("SELECT active_pid FROM pg_replication_slots WHERE slot_name = 'sr_slot'") is int,
            "the walsender holds the slot");
        var pid = (int)(await c.ScalarAsync("SELECT active_pid FROM pg_replication_slots WHERE slot_name = 'sr_slot'"))!;
        Assert.Equal($"replication slot \"sr_slot\" is active for PID {pid}",
            (await Assert.ThrowsAsync<PostgresException>(() => c.ExecAsync("SELECT pg_drop_replication_slot('sr_slot')"))).MessageText);
        Assert.Equal("55006", (await Assert.ThrowsAsync<PostgresException>(() =>
            c.ExecAsync("SELECT * FROM pg_logical_slot_peek_binary_changes('sr_slot', NULL, NULL, 'proto_version', '1', 'publication_names', 'sr_pub')"))).SqlState);

        await c.ExecAsync("INSERT INTO sr_t VALUES (1)");
        var confirmed = await committed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        // NULL (DBNull) until a status update reports a flush position: Npgsql's own periodic update may come first with 0/0.
        await Eventually.WaitUntilAsync(async () => await c.ScalarAsync($"SELECT flush_lsn::text FROM pg_stat_replication WHERE pid = {pid}") as string == confirmed.ToString(),
            "pg_stat_replication shows the position the consumer confirmed");
        await using (var row = new NpgsqlCommand($"SELECT usename, application_name, state, sent_lsn >= flush_lsn, client_addr IS NOT NULL, " +
            $"backend_start <= now(), sync_state, reply_time IS NOT NULL FROM pg_stat_replication WHERE pid = {pid}", c))
        await using (var reader = await row.ExecuteReaderAsync())
        {
            Assert.True(await reader.ReadAsync());
            Assert.Equal("postgres", reader.GetString(0));
            Assert.Equal("sr_consumer", reader.GetString(1));
            Assert.Equal("streaming", reader.GetString(2));
            Assert.True(reader.GetBoolean(3));
            Assert.True(reader.GetBoolean(4));
            Assert.True(reader.GetBoolean(5));
            Assert.Equal("async", reader.GetString(6));
            Assert.True(reader.GetBoolean(7));
        }

        Assert.Equal(true, await c.ScalarAsync("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = 'sr_slot'"));
        var ended = await Assert.ThrowsAsync<PostgresException>(() => stream.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("57P01", ended.SqlState);
        Assert.Equal("terminating connection due to administrator command", ended.MessageText);
        await Eventually.WaitUntilAsync(async () => (bool)(await c.ScalarAsync("SELECT NOT active FROM pg_replication_slots WHERE slot_name = 'sr_slot'"))!,
            "the slot is free again");
        Assert.Equal(0L, await c.ScalarAsync($"SELECT count(*) FROM pg_stat_replication WHERE pid = {pid}"));
        Assert.Equal(confirmed.ToString(), await c.ScalarAsync("SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = 'sr_slot'"));
        await c.ExecAsync("SELECT pg_drop_replication_slot('sr_slot')");
    }
}
