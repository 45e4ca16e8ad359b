using Npgsql;
using ZeroPg.Cli;
using ZeroPg.Hosting;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Cli;

/// <summary>
/// `zeropg serve --split-cores`: the engine hosts on the last CPU, the server's threads on the others, each placed a settle
/// time after its start (and on any CPU again while an engine starts); auto splits only where ZeroPg is given exactly two CPUs.
/// </summary>
public sealed class CoreSplitTests
{
    [Fact]
    public void The_engine_hosts_get_the_last_cpu_and_auto_splits_only_two()
    {
        Assert.Equal(([0], [1]), Pair(CoreSplit.Plan("auto", [0, 1], pgliteEngine: true)));
        Assert.Equal(([2], [5]), Pair(CoreSplit.Plan("auto", [2, 5], pgliteEngine: true)));
        Assert.Null(CoreSplit.Plan("auto", [0, 1, 2, 3], pgliteEngine: true));
        Assert.Equal(([0, 1, 2], [3]), Pair(CoreSplit.Plan("on", [0, 1, 2, 3], pgliteEngine: true)));
        Assert.Null(CoreSplit.Plan("on", [0], pgliteEngine: true)); // one CPU: nothing to split
        Assert.Null(CoreSplit.Plan("off", [0, 1], pgliteEngine: true));
        Assert.Null(CoreSplit.Plan("on", [0, 1], pgliteEngine: false)); // --engine postgres: its backends are the server's children
    }

    [Fact]
    public async Task Serve_runs_the_server_and_its_engine_host_on_a_core_each_after_every_start()
    {
        var allowed = CpuAffinity.Allowed();
        Assert.True(allowed.Length >= 2, $"this test needs two CPUs, the process has [{string.Join(',', allowed)}]");
        int[] server = [.. allowed[..^1]], engine = [allowed[^1]];
        // No warm-up: placed as soon as a start is over (the default waits for 10 s of each process's CPU time after it).
        await using var cli = await CliProcess.StartReadyAsync(new Dictionary<string, string> { ["ZEROPG_SPLIT_CORES_WARMUP"] = "0" }, "--port", "0", "--split-cores", "on");
        var host = cli.EngineProcessId();
        await Eventually.WaitUntilAsync(() => Placed(cli.Process.Id, server) && Placed(host, engine), "the server and its engine host placed",
            timeout: TimeSpan.FromSeconds(60));
        await Eventually.WaitUntilAsync(() => cli.Stderr.Contains("(--split-cores)", StringComparison.Ordinal), "the split in the log"); // read as it comes

        await using (var connection = new NpgsqlConnection(cli.ConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand("CREATE DATABASE d1", connection);
            await create.ExecuteNonQueryAsync();
        }
        await using (var d1 = new NpgsqlConnection(cli.ConnectionString + ";Database=d1"))
        {
            await d1.OpenAsync();
            await using var query = new NpgsqlCommand("SELECT 41 + 1", d1);
            Assert.Equal(42, await query.ExecuteScalarAsync());
        }
        // The new database's engine started on any CPU in the same host, then both went back (a spare may start meanwhile).
        await Eventually.WaitUntilAsync(() => Placed(cli.Process.Id, server) && Placed(host, engine), "both placed again after the new database's start",
            timeout: TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task Both_stay_on_every_cpu_until_they_have_warmed_up()
    {
        var allowed = CpuAffinity.Allowed();
        await using var cli = await CliProcess.StartReadyAsync("--port", "0", "--split-cores", "on");
        Assert.Equal(1, await SelectOneAsync(cli));
        await Eventually.WaitUntilAsync(() => cli.Stderr.Contains("(--split-cores)", StringComparison.Ordinal), "the split in the log");
        for (var look = 0; look < 3; look++) // the placement is looked at once a second: three looks pass with ~no CPU used
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.True(Placed(cli.Process.Id, allowed) && Placed(cli.EngineProcessId(), allowed), "placed before 10 s of CPU after the start");
        }
    }

    [Fact]
    public async Task Off_leaves_both_on_every_cpu()
    {
        var allowed = CpuAffinity.Allowed();
        await using var cli = await CliProcess.StartReadyAsync("--port", "0", "--split-cores", "off");
        Assert.Equal(1, await SelectOneAsync(cli));
        Assert.True(Placed(cli.Process.Id, allowed), "the server is on every CPU");
        Assert.True(Placed(cli.EngineProcessId(), allowed), "the engine host is on every CPU");
        Assert.DoesNotContain("(--split-cores)", cli.Stderr);
    }

    private static async Task<object?> SelectOneAsync(CliProcess cli)
    {
        await using var connection = new NpgsqlConnection(cli.ConnectionString);
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand("SELECT 1", connection);
        return await query.ExecuteScalarAsync();
    }

    /// <summary>Every thread of <paramref name="pid"/> may run on exactly <paramref name="cpus"/> (but V8's compiler threads, left on any CPU).</summary>
    internal static bool Placed(int pid, IReadOnlyList<int> cpus)
        => Directory.GetDirectories($"/proc/{pid}/task")
            .Where(t => !ReadName(t).StartsWith(ZeroPg.Engine.EngineHostCores.CompilerThreads, StringComparison.Ordinal))
            .Select(t => CpuAffinity.Allowed(int.Parse(Path.GetFileName(t), System.Globalization.CultureInfo.InvariantCulture)))
            .All(a => a.Length == 0 || a.SequenceEqual(cpus)); // empty: the thread ended while listed

    private static string ReadName(string task)
    {
        try
        {
            return File.ReadAllText(Path.Combine(task, "comm"));
        }
        catch (IOException)
        {
            return ""; // it ended
        }
    }

    private static (int[], int[])? Pair((int[] Server, int[] Engine)? plan) => plan is { } p ? (p.Server, p.Engine) : null;
}
