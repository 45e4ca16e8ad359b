using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ZeroPg.Soak;

/// <summary>
/// One soak: starts the server on the data directory, sets up the tables, publication, slot and idle database, runs every
/// workload at once for <see cref="SoakOptions.Duration"/> while the fault loop kills the engine hosts and the server on
/// their periods (after each, once the server answers, the ledger is checked), then stops the load, drains the replication
/// consumer, stops the server with SIGTERM and checks what it left in its TMPDIR and /dev/shm.
/// </summary>
public sealed class SoakRun(SoakOptions options)
{
    private readonly List<Check> _checks = [];

    public sealed record Check(string Name, double Value, double Bound, bool Passed, string Detail);

    public sealed record Result(bool Passed, IReadOnlyList<Check> Checks, Dictionary<string, object> Report, string Text);

    public async Task<Result> RunAsync(CancellationToken cancel = default)
    {
        if (Directory.Exists(options.DataDirectory) && Directory.EnumerateFileSystemEntries(options.DataDirectory).Any())
            throw new InvalidOperationException($"{options.DataDirectory} is not empty: the soak starts on a new data directory");
        Directory.CreateDirectory(options.DataDirectory);
        var tempDirectory = Path.Combine(Path.GetTempPath(), $"soak{Environment.ProcessId}-{Random.Shared.Next(0x1000000):x6}" /* short: the cancel socket under it must fit a 108-byte socket path; two runs in one process (the tests) apart */);
        Directory.CreateDirectory(tempDirectory);
        var logPath = options.ServerLog ?? Path.GetFullPath(options.DataDirectory.TrimEnd('/') + ".server.log");
        var timeline = new Timeline(options.FaultGrace);
        var server = new ServerProcess(options, tempDirectory, logPath);
        var context = new SoakContext(options, server, timeline);
        var startedAt = DateTime.UtcNow;
        context.Progress($"soak of {options.Minutes} min on {options.DataDirectory}: engine hosts killed every {options.EngineKillEvery.TotalMinutes:0.##} min, the server every {options.ServerKillEvery.TotalMinutes:0.##} min; server log {logPath}");

        await server.StartAsync(cancel);
        await using (var setup = await context.OpenAsync(cancel))
            await SoakContext.ExecuteAsync(setup, Ledger.Setup + ReplicationConsumer.Setup, cancel);
        await ReplicationConsumer.CreateSlotAsync(server.ConnectionString());
        await Databases.SetupAsync(context, cancel);
        await Pgbench.InitializeAsync(context, cancel);
        context.Progress("set up: ledger, publication and slot, idle database, pgbench tables");
        timeline.Restart(); // the run's minutes, and its faults' times, count from here: a slow setup does not eat them

        var ledger = new Ledger(context);
        var consumer = new ReplicationConsumer(context);
        var notify = new NotifyPingPong(context);
        var churn = new Churn(context);
        var copy = new CopyInOut(context);
        var databases = new Databases(context);
        var cancels = new Cancels(context);
        var witness = new Witness(context);
        var pgbench = new Pgbench(context);
        var resources = new Resources(context);
        await resources.TakeSampleAsync(cancel);

        using var stopLoad = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        using var stopConsumer = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var load = new List<Task>
        {
            ledger.RunAsync(stopLoad.Token), notify.RunAsync(stopLoad.Token), churn.RunAsync(stopLoad.Token), copy.RunAsync(stopLoad.Token),
            databases.RunAsync(stopLoad.Token), cancels.RunAsync(stopLoad.Token), witness.RunAsync(stopLoad.Token), pgbench.RunAsync(stopLoad.Token),
            resources.RunAsync(stopLoad.Token),
        };
        var consuming = consumer.RunAsync(stopConsumer.Token);

        var faults = Schedule();
        var engineKills = 0;
        var serverKills = 0;
        var recoverySeconds = new List<double>();
        foreach (var (at, kind) in faults)
        {
            if (!await DelayUntilAsync(timeline, at, cancel))
                break;
            var fault = timeline.BeginFault(kind);
            if (kind == "engine")
            {
                var hosts = server.KillEngineHosts();
                engineKills++;
                context.Progress($"fault: SIGKILL of the engine host(s) {string.Join(",", hosts)}");
            }
            else
            {
                var pid = server.ProcessId;
                await server.KillAsync();
                serverKills++;
                context.Progress($"fault: SIGKILL of the server {pid}; starting it again on the same directory");
                await server.StartAsync(cancel);
            }
            await WaitAnswersAsync(context, cancel);
            timeline.Recovered(fault);
            recoverySeconds.Add((fault.RecoveredAt!.Value - fault.KilledAt).TotalSeconds);
            context.Progress($"recovered {recoverySeconds[^1]:F1} s after the {kind} kill");
            var missing = await ledger.CheckAsync($"after {kind} kill {engineKills + serverKills}", cancel);
            if (missing > 0 && options.StopOnFailure)
                break;
        }
        await DelayUntilAsync(timeline, options.Duration, cancel, stopWhen: () => options.StopOnFailure && ledger.LostCount > 0);

        context.Progress("stopping the load");
        await stopLoad.CancelAsync();
        await Task.WhenAll(load).WaitAsync(TimeSpan.FromMinutes(3), CancellationToken.None);
        await resources.TakeSampleAsync(cancel);
        await ledger.CheckAsync("at the end", cancel);

        // Everything in the table must reach the consumer (also commits a kill cut before their acknowledgement).
        HashSet<long> table;
        await using (var connection = await context.OpenAsync(cancel))
            table = await Ledger.IdsAsync(connection, cancel);
        var drainUntil = timeline.Now + TimeSpan.FromMinutes(2);
        while (!consumer.HasAll(table) && timeline.Now < drainUntil)
            await Task.Delay(500, cancel);
        await stopConsumer.CancelAsync();
        await consuming.WaitAsync(TimeSpan.FromMinutes(1), CancellationToken.None);
        var (replicationMissing, replicationExtra) = consumer.Compare(table);

        var serverPid = server.ProcessId;
        var stoppedCleanly = await server.StopAsync(TimeSpan.FromSeconds(60));
        var leftovers = Leftovers(server);
        var engineDeaths = CountInLog(logPath, "engine died \\(");
        var hostDeaths = CountInLog(logPath, "shared engine host pid \\d+ died");
        var cancelKills = CountInLog(logPath, "killing engine pid");

        // The checks (the issue's "done when"), with their numbers.
        var injected = options.InjectLostCommit ? 1 : 0;
        AddCheck("acknowledged commits lost", ledger.LostCount, 0, $"{ledger.AcknowledgedCount} acknowledged, checked after every fault and at the end");
        AddCheck("replication rows never received", replicationMissing.Count, 0, $"{table.Count} rows in the table; first missing: {string.Join(",", replicationMissing.Take(10))}");
        AddCheck("replication transactions duplicated", consumer.Duplicated, 0, "below the slot's confirmed position at the stream's start, or an id twice");
        AddCheck("replication out of commit order", consumer.OutOfOrder, 0, "a writer's ids, commit LSNs");
        AddCheck("NOTIFYs lost", notify.Lost, 0, "sent after the listener's LISTEN, listener still connected, no fault within the wait");
        AddCheck("NOTIFYs duplicated or unexpected", notify.Duplicated, 0, "");
        AddCheck("COPY round trips that differ", copy.Mismatches, 0, "");
        AddCheck("idle database's row missing after eviction", databases.IdleRowMissing, 0, "");
        var (p99, gap, gapOverall, worst) = witness.Figures();
        AddCheck("witness longest gap outside fault windows, s", Math.Round(gap, 3), options.WitnessBound.TotalSeconds, $"p99 {p99:F3} s, worst {worst:F3} s outside; longest gap overall {gapOverall:F1} s");
        AddCheck("witness p99 outside fault windows, s", Math.Round(p99, 3), options.WitnessBound.TotalSeconds, "");
        AddCheck("server outlived SIGTERM", stoppedCleanly ? 0 : 1, 0, $"pid {serverPid}, 60 s allowed");
        AddCheck("temporary files and folders left", leftovers.Count, 0, string.Join(", ", leftovers.Take(10)));
        var growth = resources.Growth();
        if (options.ChecksGrowth)
        {
            // On each process life's peak (see Resources.Growth); the slope over every sample is in the report beside it.
            var span = $"minute {growth["windowFromMinute"]} to {growth["windowToMinute"]}, slope of each life's peak";
            AddCheck("server RSS growth, MB", growth["serverRssMbPeaks"], 50, $"{span}; over every sample {growth["serverRssMb"]}");
            AddCheck("engine host RSS growth, MB", growth["engineRssMbPeaks"], 50, $"over every sample {growth["engineRssMb"]}");
            AddCheck("server threads growth", growth["serverThreadsPeaks"], 10, $"over every sample {growth["serverThreads"]}");
            AddCheck("server descriptors growth", growth["serverFdsPeaks"], 20, $"over every sample {growth["serverFds"]}");
            AddCheck("engine host threads growth", growth["engineThreadsPeaks"], 10, $"over every sample {growth["engineThreads"]}");
            AddCheck("engine host descriptors growth", growth["engineFdsPeaks"], 20, $"over every sample {growth["engineFds"]}");
        }
        if (!options.StopOnFailure)
        {
            AddCheck("engine kills done", engineKills >= 1 ? 0 : 1, 0, $"{engineKills}");
            AddCheck("server kills done", serverKills >= 1 ? 0 : 1, 0, $"{serverKills}");
        }

        var report = new Dictionary<string, object>
        {
            ["startedUtc"] = startedAt.ToString("u"),
            ["minutes"] = options.Minutes,
            ["ranMinutes"] = Math.Round(timeline.Now.TotalMinutes, 2),
            ["loadAverage"] = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "",
            ["cpus"] = Environment.ProcessorCount,
            ["passed"] = _checks.All(c => c.Passed),
            ["checks"] = _checks,
            ["faults"] = new Dictionary<string, object>
            {
                ["engineKills"] = engineKills,
                ["serverKills"] = serverKills,
                ["recoverySeconds"] = recoverySeconds.Select(s => Math.Round(s, 1)).ToList(),
                ["engineDeathsLogged"] = engineDeaths, // one per engine (database) the killed host ran
                ["engineHostDeathsLogged"] = hostDeaths, // beyond the engine kills: hosts that died on their own
                ["cancelFallbackEngineKills"] = cancelKills,
            },
            ["ledger"] = ledger.Report(),
            ["replication"] = new Dictionary<string, object>(consumer.Report()) { ["missing"] = replicationMissing.Count, ["receivedNotInTable"] = replicationExtra },
            ["notify"] = notify.Report(),
            ["pgbench"] = pgbench.Report(),
            ["copy"] = copy.Report(),
            ["churn"] = churn.Report(),
            ["databases"] = databases.Report(),
            ["cancels"] = cancels.Report(),
            ["witness"] = witness.Report(),
            ["engineLongHolds"] = EngineHolds.Read(logPath),
            ["resourceGrowth"] = growth,
            ["resourceLives"] = resources.Lives(),
            ["resourceSamples"] = resources.Samples,
            ["leftovers"] = leftovers,
            ["serverLog"] = logPath,
        };
        if (Directory.Exists(tempDirectory) && leftovers.Count == 0)
            Directory.Delete(tempDirectory, recursive: true);
        var passed = _checks.All(c => c.Passed);
        return new Result(passed, _checks, report, Text(report, injected));
    }

    private void AddCheck(string name, double value, double bound, string detail) => _checks.Add(new Check(name, value, bound, value <= bound, detail));

    /// <summary>Engine kills on their period, server kills on theirs (an engine kill within 30 s of a server kill, or half an engine period in a short run, is left out), none in the last 20 s.</summary>
    private List<(TimeSpan At, string Kind)> Schedule()
    {
        var faults = new List<(TimeSpan, string)>();
        var last = options.Duration - TimeSpan.FromSeconds(20);
        for (var at = options.ServerKillEvery; at <= last; at += options.ServerKillEvery)
            faults.Add((at, "server"));
        for (var at = options.EngineKillEvery; at <= last; at += options.EngineKillEvery)
        {
            var engineAt = at;
            var apart = TimeSpan.FromSeconds(Math.Min(30, options.EngineKillEvery.TotalSeconds / 2));
            if (!faults.Any(f => f.Item2 == "server" && (f.Item1 - engineAt).Duration() < apart))
                faults.Add((at, "engine"));
        }
        return [.. faults.OrderBy(f => f.Item1)];
    }

    private static async Task WaitAnswersAsync(SoakContext context, CancellationToken cancel)
    {
        var deadline = context.Timeline.Now + TimeSpan.FromMinutes(3);
        while (true)
        {
            try
            {
                await using var connection = await context.OpenAsync(cancel);
                await SoakContext.ScalarAsync(connection, "SELECT 1", cancel);
                return;
            }
            catch (Exception) when (context.Timeline.Now < deadline && !cancel.IsCancellationRequested)
            {
                await Task.Delay(200, cancel);
            }
        }
    }

    private static async Task<bool> DelayUntilAsync(Timeline timeline, TimeSpan at, CancellationToken cancel, Func<bool>? stopWhen = null)
    {
        while (timeline.Now < at)
        {
            if (stopWhen?.Invoke() == true || cancel.IsCancellationRequested)
                return false;
            var wait = at - timeline.Now;
            await Task.Delay(wait < TimeSpan.FromSeconds(1) ? wait : TimeSpan.FromSeconds(1), CancellationToken.None);
        }
        return true;
    }

    /// <summary>What is left in the server's TMPDIR, and in /dev/shm under the names of this run's processes.</summary>
    private static List<string> Leftovers(ServerProcess server)
    {
        var left = new List<string>();
        if (Directory.Exists(server.TempDirectory))
            left.AddRange(Directory.EnumerateFileSystemEntries(server.TempDirectory).Select(Path.GetFileName)!);
        if (Directory.Exists("/dev/shm"))
        {
            foreach (var entry in Directory.EnumerateFileSystemEntries("/dev/shm", "zeropg-*"))
            {
                var name = Path.GetFileName(entry);
                if (server.ProcessIds.Concat(server.EngineHostIds).Any(pid => name.Contains($"-{pid}-", StringComparison.Ordinal)))
                    left.Add(entry);
            }
        }
        return left;
    }

    private static int CountInLog(string path, string pattern)
    {
        try
        {
            var regex = new Regex(pattern);
            return File.ReadLines(path).Count(regex.IsMatch);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private string Text(Dictionary<string, object> report, int injected)
    {
        var text = new StringBuilder();
        text.AppendLine($"soak {report["startedUtc"]}: {report["ranMinutes"]} of {report["minutes"]} min, {report["cpus"]} CPUs, load average at the end {report["loadAverage"]}{(injected > 0 ? " (test hook: one acknowledged commit deleted)" : "")}");
        foreach (var check in _checks)
            text.AppendLine($"  {(check.Passed ? "ok  " : "FAIL")} {check.Name}: {check.Value} (bound {check.Bound}){(check.Detail.Length > 0 ? "  " + check.Detail : "")}");
        var options = new JsonSerializerOptions { WriteIndented = false };
        foreach (var section in (string[])["faults", "ledger", "replication", "notify", "pgbench", "copy", "churn", "databases", "cancels", "witness", "engineLongHolds", "resourceGrowth"])
            text.AppendLine($"  {section}: {JsonSerializer.Serialize(report[section], options)}");
        text.AppendLine(_checks.All(c => c.Passed) ? "PASSED" : "FAILED");
        return text.ToString();
    }
}
