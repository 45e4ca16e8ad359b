using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.PgOutput;
using Npgsql.Replication.PgOutput.Messages;
using NpgsqlTypes;
using ZeroPg.Tests.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Replication.Walsender;

/// <summary>A slot on a data directory: it survives a server restart with its confirmed position, LSNs keep rising.</summary>
[Trait("Category", "Slow")]
public class SlotRestartTests
{
    private static async Task<(List<string> Inserts, NpgsqlLogSequenceNumber LastCommit)> ReadAsync(ZeroPgServer server, int commits, bool confirm)
    {
        await using var repl = new LogicalReplicationConnection(server.GetConnectionString() + ";Pooling=false");
        await repl.Open();
        using var stop = NpgsqlDeadline.After(TimeSpan.FromSeconds(60));
        var inserts = new List<string>();
        NpgsqlLogSequenceNumber last = default;
        await foreach (var message in repl.StartReplication(new PgOutputReplicationSlot("restart_slot"), new PgOutputReplicationOptions("restart_pub", PgOutputProtocolVersion.V1), stop.Token))
        {
            if (message is InsertMessage insert)
            {
                await foreach (var value in insert.NewRow)
                    inserts.Add(await value.Get<string>());
            }
            if (confirm)
            {
                repl.SetReplicationStatus(message.WalEnd);
                await repl.SendStatusUpdate(stop.Token);
            }
            if (message is CommitMessage commit)
            {
                Assert.True(commit.CommitLsn > last, $"commit LSN {commit.CommitLsn} after {last}");
                last = commit.CommitLsn;
                if (--commits == 0)
                    break;
            }
        }
        return (inserts, last);
    }

    [Fact]
    public async Task The_slot_and_its_position_survive_a_restart()
    {
        using var directory = new TempDirectory();
        var options = new ZeroPgOptions { DataDirectory = directory.Sub("data") };
        NpgsqlLogSequenceNumber before;
        await using (var server = await ZeroPgServer.StartAsync(options, TestLogging.Factory))
        {
            await using var c = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
            await c.OpenAsync();
            await c.ExecAsync("CREATE TABLE restart_t (v text PRIMARY KEY); CREATE PUBLICATION restart_pub FOR TABLE restart_t");
            await using (var repl = new LogicalReplicationConnection(server.GetConnectionString() + ";Pooling=false"))
            {
                await repl.Open();
                await repl.CreatePgOutputReplicationSlot("restart_slot", slotSnapshotInitMode: LogicalSlotSnapshotInitMode.NoExport);
            }
            await c.ExecAsync("INSERT INTO restart_t VALUES ('one')");
            await c.ExecAsync("INSERT INTO restart_t VALUES ('two')");
            var (inserts, last) = await ReadAsync(server, 2, confirm: true);
            Assert.Equal(["one", "two"], inserts);
            before = last;
            await Eventually.WaitUntilAsync(async () => Convert.ToBoolean(await new NpgsqlCommand(
                $"SELECT confirmed_flush_lsn > '{last}' FROM zeropg_repl.slots WHERE slot_name = 'restart_slot'", c).ExecuteScalarAsync()), "the slot has the confirmed position");
            await c.ExecAsync("INSERT INTO restart_t VALUES ('three')"); // never confirmed
        }

        await using (var server = await ZeroPgServer.StartAsync(options, TestLogging.Factory))
        {
            await using var c = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
            await c.OpenAsync();
            await c.ExecAsync("INSERT INTO restart_t VALUES ('four')");
            var (inserts, last) = await ReadAsync(server, 2, confirm: false);
            Assert.Equal(["three", "four"], inserts);
            Assert.True(last > before);
            var current = (NpgsqlLogSequenceNumber)(await new NpgsqlCommand("SELECT pg_current_wal_lsn()", c).ExecuteScalarAsync())!;
            Assert.True(current >= last, $"pg_current_wal_lsn() {current} is below the last commit LSN {last}");
        }
    }
}
