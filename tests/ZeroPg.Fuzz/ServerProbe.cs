using System.Globalization;

namespace ZeroPg.Fuzz;

/// <summary>What the fuzzer watches of the server under test: its engine (another one means the old died) and memory.</summary>
public abstract class ServerProbe
{
    /// <summary>Names the engine serving postgres now: a new name after it died and restarted.</summary>
    public abstract string? EngineIdentity();

    /// <summary>The process the engine runs in (the shared engine host runs every database's engine: its memory is all of theirs).</summary>
    public abstract int? EngineProcessId();

    /// <summary>The resident memory of the process that runs the server (for an in-process server, the fuzzer's own process too).</summary>
    public abstract long? ServerResidentBytes();

    public long? EngineResidentBytes() => EngineProcessId() is { } pid ? ResidentBytes(pid) : null;

    /// <summary>
    /// The server's own counts (its /metrics): engine restarts, engines killed to stop a batch past its cancel, and such batches
    /// waited for (memory://). An engine of the shared host dies and restarts in the same process: only these show it. Null: unknown.
    /// </summary>
    public abstract EngineCounts? Counts();

    /// <summary>A server in this process.</summary>
    public static ServerProbe Of(ZeroPgServer server) => new InProcess(server);

    /// <summary>
    /// A `zeropg serve` process: its engine is its node child. Its pid is the engine's identity: run it with --engine-host
    /// process, since an engine of the shared host (the default) dies and restarts in the same process.
    /// </summary>
    public static ServerProbe OfProcess(int serverPid, string? metricsUrl = null) => new External(serverPid, metricsUrl);

    public static long? ResidentBytes(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or FormatException)
        {
        }
        return null;
    }

    private sealed class InProcess(ZeroPgServer server) : ServerProbe
    {
        public override string? EngineIdentity() => server.EngineId is { } id ? $"engine {id}" : null;

        public override int? EngineProcessId() => server.EngineProcessId;

        public override long? ServerResidentBytes() => ResidentBytes(Environment.ProcessId);

        public override EngineCounts? Counts()
        {
            var cancels = server.Metrics.UnhonouredCancels().ToList();
            return new EngineCounts(server.Metrics.EngineRestarts(), cancels.Where(c => c.Action == "killed").Sum(c => c.Count),
                cancels.Where(c => c.Action == "waited").Sum(c => c.Count));
        }
    }

    private sealed class External(int serverPid, string? metricsUrl) : ServerProbe
    {
        private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };
        private EngineCounts? _lastCounts;
        private long _lastRead;

        // The pid names a host process's engine; the restarts count (from /metrics) names a worker of the shared host.
        public override string? EngineIdentity() => EngineProcessId() is { } pid ? $"engine host pid {pid}" + (Counts() is { } c ? $", restarts {c.Restarts}" : "") : null;

        public override EngineCounts? Counts()
        {
            if (metricsUrl is null)
                return null;
            if (_lastCounts is not null && Environment.TickCount64 - _lastRead < 1000)
                return _lastCounts;
            _lastRead = Environment.TickCount64;
            try
            {
                var text = Http.GetStringAsync(metricsUrl).GetAwaiter().GetResult();
                long Sum(string prefix) => text.Split('\n').Where(l => l.StartsWith(prefix, StringComparison.Ordinal))
                    .Sum(l => long.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
                return _lastCounts = new EngineCounts((int)Sum("zeropg_engine_restarts_total "), Sum("zeropg_engine_kills_total{"),
                    Sum("zeropg_cancels_unhonoured_total{") - Sum("zeropg_engine_kills_total{"));
            }
            catch (Exception error) when (error is HttpRequestException or TaskCanceledException or FormatException)
            {
                return _lastCounts; // a server too busy to answer in time keeps its last figures
            }
        }

        public override int? EngineProcessId()
        {
            try
            {
                foreach (var task in Directory.EnumerateDirectories($"/proc/{serverPid}/task"))
                {
                    foreach (var child in File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    {
                        var pid = int.Parse(child, CultureInfo.InvariantCulture);
                        if (File.ReadAllText($"/proc/{pid}/comm").Trim() is "node" or "MainThread")
                            return pid;
                    }
                }
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException or FormatException)
            {
            }
            return null;
        }

        public override long? ServerResidentBytes() => ResidentBytes(serverPid);
    }
}

/// <summary>The server's engine counts (<see cref="ServerProbe.Counts"/>).</summary>
public sealed record EngineCounts(int Restarts, long Killed, long Waited);
