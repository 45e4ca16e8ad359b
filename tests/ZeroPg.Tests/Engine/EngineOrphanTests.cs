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
