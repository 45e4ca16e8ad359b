using System.Diagnostics;
using Npgsql;
using ZeroPg.Tests.Cli;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Engine;

/// <summary>
/// An engine host never outlives its server, even when a query that never ends keeps it from reading stdin
/// (before: after SIGKILL of the server such an engine kept spinning, an orphan of init).
/// </summary>
public sealed class EngineOrphanTests
{
    [Fact]
    [Trait("Category", "Slow")]
    public async Task Sigkill_of_the_server_during_an_endless_query_leaves_no_engine()
    {
        await using var cli = await CliProcess.StartReadyAsync("--port", "0");
        var engine = cli.EngineProcessId();
        await using var connection = new NpgsqlConnection(cli.ConnectionString);
        await connection.OpenAsync();
        await using var endless = new NpgsqlCommand("do $$ begin loop end loop; end $$", connection) { CommandTimeout = 0 };
        var running = endless.ExecuteNonQueryAsync();
        var cpuBefore = CpuTicks(engine);
        await Eventually.WaitUntilAsync(() => CpuTicks(engine) > cpuBefore + 50, "the engine busy in the endless loop", TimeSpan.FromSeconds(30));

        cli.Process.Kill(); // SIGKILL of the server only, not its tree
        await cli.Process.WaitForExitAsync();
        var clock = Stopwatch.StartNew();
        await Eventually.WaitUntilAsync(() => !CliProcess.IsRunning(engine), "the busy engine host gone after its server was killed", TimeSpan.FromSeconds(30));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"the engine took {clock.Elapsed} to exit");
        await Assert.ThrowsAnyAsync<Exception>(() => running);
    }

    [Fact]
    [Trait("Category", "Slow")] // the second server waits 15 s for the engine to go before it refuses
    public async Task A_directory_replaced_under_a_running_server_is_refused_naming_that_server()
    {
        using var directory = new TempDirectory();
        var data = directory.Sub("data");
        await using var cli = await CliProcess.StartReadyAsync("--port", "0", "--db", data);
        await using (var connection = new NpgsqlConnection(cli.ConnectionString))
        {
            await connection.OpenAsync();
            await new NpgsqlCommand("CREATE TABLE t AS SELECT 1 AS x", connection).ExecuteNonQueryAsync();
        }
        // Deleted and copied anew while the server runs (a restore by hand): its engine still holds the old files.
        await ExternalTool.RunAsync("cp", ["-a", data, directory.Sub("copy")]);
        Directory.Delete(data, recursive: true);
        Directory.Move(directory.Sub("copy"), data);

        var refused = await Assert.ThrowsAnyAsync<InvalidOperationException>(
            () => ZeroPgServer.StartAsync(new ZeroPgOptions { Port = 0, DataDirectory = data }, TestLogging.Factory));
        Assert.Contains($"Server process {cli.Process.Id} still runs an engine that holds files under {data}", refused.Message);
        Assert.Contains("was the directory replaced while it ran?", refused.Message);
        await using var still = new NpgsqlConnection(cli.ConnectionString);
        await still.OpenAsync();
        Assert.Equal(1, await new NpgsqlCommand("SELECT x FROM t", still).ExecuteScalarAsync());
    }

    /// <summary>utime + stime of a process, in clock ticks (/proc/PID/stat fields 14 and 15); 0 once it is gone.</summary>
    private static long CpuTicks(int pid)
    {
        try
        {
            var fields = File.ReadAllText($"/proc/{pid}/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
