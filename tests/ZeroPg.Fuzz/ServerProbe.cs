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
    /// A `zeropg serve` process, its engine followed through the server's own word: with <paramref name="httpBase"/>
    /// (http://host:port of its --http-port), /metrics counts the engine restarts of <paramref name="database"/> and the kills,
    /// and /api/status names the process of that database's engine (a spare started for the next CREATE DATABASE, or a
    /// dropped database's engine, is another process and no concern of the probe). Without it, the oldest node child of
    /// the server is watched: the engine of postgres starts first, spares after it.
    /// </summary>
    public static ServerProbe OfProcess(int serverPid, string? httpBase = null, string database = "postgres") => new External(serverPid, httpBase, database);

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

    private sealed class External(int serverPid, string? httpBase, string database) : ServerProbe
    {
        private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };
        private Cached<EngineCounts>? _counts;
        private Cached<ServedBy>? _servedBy;

        /// <summary>
        /// The server's counts first (its restarts of the database's engine, the kills), then the process that serves the
        /// database as the server names it: another pid with no restart counted is a death the server did not count.
        /// </summary>
        public override string? EngineIdentity()
        {
            var counts = Counts();
            var pid = EngineProcessId();
            if (counts is null && pid is null)
                return null;
            return $"engine of {database}" + (counts is { } c ? $" (restarts {c.Restarts}, kills {c.Killed})" : "") + (pid is { } p ? $" in pid {p}" : "");
        }

        public override EngineCounts? Counts()
        {
            if (httpBase is null)
                return null;
            return Fresh(ref _counts, () =>
            {
                var text = Http.GetStringAsync(httpBase + "/metrics").GetAwaiter().GetResult().Split('\n');
                long Sum(string prefix) => text.Where(l => l.StartsWith(prefix, StringComparison.Ordinal))
                    .Sum(l => long.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
                // The database's own restarts (a server before zeropg_database_engine_restarts_total: every running database's).
                var own = $"zeropg_database_engine_restarts_total{{database=\"{database}\"}} ";
                var restarts = text.Any(l => l.StartsWith(own, StringComparison.Ordinal)) ? Sum(own) : Sum("zeropg_engine_restarts_total ");
                return new EngineCounts((int)restarts, Sum("zeropg_engine_kills_total{"),
                    Sum("zeropg_cancels_unhonoured_total{") - Sum("zeropg_engine_kills_total{"));
            });
        }

        public override int? EngineProcessId()
        {
            if (httpBase is not null && Fresh(ref _servedBy, ReadStatus) is { } served)
                return served.EnginePid;
            return OldestEngineChild();
        }

        public override long? ServerResidentBytes() => ResidentBytes(serverPid);

        /// <summary>The process of the database's engine as /api/status names it (spares are listed apart, as engines of no database).</summary>
        private ServedBy ReadStatus()
        {
            using var status = System.Text.Json.JsonDocument.Parse(Http.GetStringAsync(httpBase + "/api/status").GetAwaiter().GetResult());
            int? pid = null;
            foreach (var entry in status.RootElement.GetProperty("databases").EnumerateArray())
            {
                if (entry.GetProperty("name").GetString() == database && entry.GetProperty("enginePid") is { ValueKind: System.Text.Json.JsonValueKind.Number } enginePid)
                    pid = enginePid.GetInt32();
            }
            return new ServedBy(pid);
        }

        /// <summary>The server's node child that started first: the engine of postgres (spares and other databases' engines start later).</summary>
        private int? OldestEngineChild()
        {
            try
            {
                return Directory.EnumerateDirectories($"/proc/{serverPid}/task")
                    .SelectMany(task => File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    .Select(child => int.Parse(child, CultureInfo.InvariantCulture))
                    .Where(pid => File.Exists($"/proc/{pid}/comm") && File.ReadAllText($"/proc/{pid}/comm").Trim() is "node" or "MainThread")
                    .Select(pid => (Pid: pid, Started: StartTicks(pid)))
                    .Where(child => child.Started is not null)
                    .OrderBy(child => child.Started)
                    .Select(child => (int?)child.Pid)
                    .FirstOrDefault();
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException or FormatException)
            {
                return null;
            }
        }

        /// <summary>When the process started, in clock ticks since boot (/proc/PID/stat's 22nd field).</summary>
        private static long? StartTicks(int pid)
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' '); // the name may hold spaces: fields after it, from the 3rd
                return long.Parse(fields[22 - 3], CultureInfo.InvariantCulture);
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                return null;
            }
        }

        /// <summary>Read at most once a second (the monitor asks five times a second); a server too busy to answer in time keeps its last figures.</summary>
        private static T? Fresh<T>(ref Cached<T>? cache, Func<T> read) where T : class
        {
            if (cache is { } cached && Environment.TickCount64 - cached.At < 1000)
                return cached.Value;
            try
            {
                cache = new Cached<T>(read(), Environment.TickCount64);
            }
            catch (Exception error) when (error is HttpRequestException or TaskCanceledException or FormatException
                or System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException)
            {
                if (cache is null)
                    return null;
                cache = cache with { At = Environment.TickCount64 };
            }
            return cache.Value;
        }

        private sealed record Cached<T>(T Value, long At);

        private sealed record ServedBy(int? EnginePid);
    }
}

/// <summary>The server's engine counts (<see cref="ServerProbe.Counts"/>).</summary>
public sealed record EngineCounts(int Restarts, long Killed, long Waited);
