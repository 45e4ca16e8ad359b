using System.Diagnostics;
using System.Text;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Replication.Walsender;

/// <summary>Debian's pg_recvlogical 15 (pgoutput, binary output to a file) against a ZeroPg server.</summary>
[Collection(ServerCollection.Name)]
[Trait("Category", "Slow")]
public class PgRecvLogicalTests(ServerFixture fixture)
{
    private string Dsn => $"dbname=postgres replication=database host={fixture.Server.Host} port={fixture.Server.Port} user=postgres";

    private Process Start(string slot, string file)
    {
        var start = new ProcessStartInfo(ExternalTool.Find("pg_recvlogical")) { UseShellExecute = false, RedirectStandardError = true };
        foreach (var a in new[] { "-d", Dsn, "--start", "-S", slot, "-o", "proto_version=1", "-o", "publication_names=rl_pub", "-f", file, "-F", "1", "-s", "1", "--no-loop" })
            start.ArgumentList.Add(a);
        return Process.Start(start)!;
    }

    private static bool Contains(string file, string text)
    {
        try
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            return memory.ToArray().AsSpan().IndexOf(Encoding.UTF8.GetBytes(text)) >= 0;
        }
        catch (FileNotFoundException)
        {
            return false;
        }
    }

    /// <summary>SIGINT: pg_recvlogical sends its last feedback and CopyDone, and exits 0.</summary>
    private static async Task StopAsync(Process process)
    {
        await ExternalTool.RunAsync("kill", ["-INT", process.Id.ToString()]);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, await process.StandardError.ReadToEndAsync());
    }

    [Fact]
    public async Task Streams_pgoutput_and_resumes_after_its_feedback()
    {
        await using var c = await fixture.OpenAsync();
        await c.ExecAsync("CREATE TABLE rl_t (id int PRIMARY KEY, v text); CREATE PUBLICATION rl_pub FOR TABLE rl_t");
        var created = await ExternalTool.RunAsync("pg_recvlogical", ["-d", Dsn, "--create-slot", "-S", "rl_slot", "-P", "pgoutput"]);
        Assert.True(created.ExitCode == 0, created.All);

        var dir = Directory.CreateTempSubdirectory("zeropg-recvlogical").FullName;
        try
        {
            await c.ExecAsync("INSERT INTO rl_t VALUES (1, 'first_marker_a1')");
            await c.ExecAsync("BEGIN; INSERT INTO rl_t VALUES (2, 'rolled_back_marker'); ROLLBACK");
            var before = (string)(await new Npgsql.NpgsqlCommand("SELECT pg_current_wal_lsn()::text", c).ExecuteScalarAsync())!;
            await c.ExecAsync("INSERT INTO rl_t VALUES (3, 'second_marker_b2')");
            var first = Path.Combine(dir, "first.bin");
            var process = Start("rl_slot", first);
            await Eventually.WaitUntilAsync(() => Contains(first, "second_marker_b2"), "pg_recvlogical wrote the second insert", TimeSpan.FromSeconds(30));
            Assert.True(Contains(first, "first_marker_a1"));
            Assert.True(Contains(first, "rl_t")); // the Relation message
            // pg_recvlogical reports its position every second (-s 1); wait until the slot has it, then stop.
            await Eventually.WaitUntilAsync(async () => (bool)(await new Npgsql.NpgsqlCommand(
                $"SELECT confirmed_flush_lsn > '{before}' FROM zeropg_repl.slots WHERE slot_name = 'rl_slot'", c).ExecuteScalarAsync())!,
                "the slot has pg_recvlogical's feedback", TimeSpan.FromSeconds(30));
            await StopAsync(process);
            Assert.False(Contains(first, "rolled_back_marker"));

            await c.ExecAsync("INSERT INTO rl_t VALUES (4, 'third_marker_c3')");
            var second = Path.Combine(dir, "second.bin");
            process = Start("rl_slot", second);
            await Eventually.WaitUntilAsync(() => Contains(second, "third_marker_c3"), "pg_recvlogical wrote the insert made while it was away", TimeSpan.FromSeconds(30));
            await StopAsync(process);
            Assert.False(Contains(second, "first_marker_a1"));
            Assert.False(Contains(second, "second_marker_b2"));

            var dropped = await ExternalTool.RunAsync("pg_recvlogical", ["-d", Dsn, "--drop-slot", "-S", "rl_slot"]);
            Assert.True(dropped.ExitCode == 0, dropped.All);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
