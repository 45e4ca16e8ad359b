using ZeroPg.Hosting;

namespace ZeroPg.Engine;

/// <summary>
/// Where engine host processes run when <see cref="ZeroPgOptions.EngineHostCpus"/> places them: on any CPU while one of their
/// engines starts and until the process has run <see cref="Warmup"/> of CPU time after it, on their own CPUs then. A start is
/// bound by CPU (Node's, the module's compile, Postgres opening its directory: on one core a first CREATE DATABASE took ~200
/// ms longer), and so is the warm-up under the first load after it (V8 compiling the engine's hot functions, .NET its own):
/// placed before it, `SELECT 1` in the first seconds of load had a p99 of ~3.5 ms and a mean of ~260-280 µs, against ~1 ms
/// and ~200-215 µs unplaced. A test suite's short run then stays unplaced; a server under load is placed once warm.
/// `zeropg serve` places its own process the same way (<see cref="PlaceServer"/>). Any thread that starts an engine calls it,
/// so its state is under one lock; a placement due later checks, under that lock, that no start came meanwhile.
/// </summary>
internal static class EngineHostCores
{
    /// <summary>CPU time a host (or the server) runs after its last start before it is placed; ZEROPG_SPLIT_CORES_WARMUP (seconds) sets it.</summary>
    public static TimeSpan Warmup => double.TryParse(Environment.GetEnvironmentVariable("ZEROPG_SPLIT_CORES_WARMUP"), System.Globalization.NumberStyles.Float,
        System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds >= 0 ? TimeSpan.FromSeconds(seconds) : TimeSpan.FromSeconds(10);

    /// <summary>
    /// Node's names for V8's background threads, which compile the engine's hot functions with TurboFan under load (not only
    /// after a start: after its first queries, whenever they come). Left on any CPU: on the engine's one core those compiles
    /// took turns with the engine's thread, and the p99 of `SELECT 1` in the first seconds of load was ~3.7 ms against ~0.8.
    /// </summary>
    public const string CompilerThreads = "node-V8Worker";

    private static readonly Lock Gate = new();
    private static readonly Dictionary<int, Placement> Hosts = [];
    private static readonly Placement Server = new();

    /// <summary>Places this process (a server of its own: `zeropg serve`) on <paramref name="cpus"/> once no engine has started for a while.</summary>
    public static void PlaceServer(IReadOnlyList<int> cpus)
    {
        lock (Gate)
        {
            Server.Cpus = cpus;
            if (Server.Starts == 0)
                PlaceLater(Environment.ProcessId, Server, Warmup);
        }
    }

    /// <summary>An engine start (with what the server does for it first) begins: this process on any CPU until a while after it is disposed.</summary>
    public static IDisposable ServerStart()
    {
        lock (Gate)
            Begin(Environment.ProcessId, Server, widen: Server.Cpus is not null); // a library server never moves the application
        return new ServerStartScope();
    }

    /// <summary>An engine is about to start in host process <paramref name="pid"/>: any CPU until a while after <see cref="Started"/>.</summary>
    public static void BeginStart(int pid)
    {
        lock (Gate)
        {
            if (!Hosts.TryGetValue(pid, out var host))
                Hosts[pid] = host = new Placement();
            Begin(pid, host, widen: true); // also a host the server started from a thread placed on the server's CPUs
        }
    }

    /// <summary>An engine of host process <paramref name="pid"/> started, or failed to: on <paramref name="cpus"/> after <paramref name="warmup"/> of its CPU time (default <see cref="Warmup"/>) with no other start.</summary>
    public static void Started(int pid, IReadOnlyList<int> cpus, TimeSpan? warmup = null)
    {
        lock (Gate)
        {
            if (!Hosts.TryGetValue(pid, out var host) || host.Starts == 0)
                return;
            host.Cpus = cpus;
            if (--host.Starts == 0)
                PlaceLater(pid, host, warmup ?? Warmup);
        }
    }

    private static void Begin(int pid, Placement placement, bool widen)
    {
        placement.Generation++; // a placement due later is off
        if (++placement.Starts == 1 && widen)
            CpuAffinity.PlaceProcess(pid, null);
    }

    private static void PlaceLater(int pid, Placement placement, TimeSpan warmup)
    {
        var generation = ++placement.Generation;
        if (warmup <= TimeSpan.Zero)
        {
            Place(pid, placement, placement.Cpus!);
            return;
        }
        if (CpuTime(pid) is { } now)
            _ = WaitAndPlaceAsync(pid, placement, generation, now + warmup);
    }

    /// <summary>
    /// Looks whether the process has used its warm-up's CPU time and places it then, unless a start came. It looks again no
    /// sooner than the rest of that time could be used on every CPU at once (and at least a second apart), so an idle process
    /// is looked at every few seconds instead of every second.
    /// </summary>
    private static async Task WaitAndPlaceAsync(int pid, Placement placement, long generation, TimeSpan placeAt)
    {
        var wait = TimeSpan.FromSeconds(1);
        while (true)
        {
            await Task.Delay(wait).ConfigureAwait(false);
            var used = CpuTime(pid);
            if (used is { } soFar)
                wait = TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerSecond, (placeAt - soFar).Ticks / Environment.ProcessorCount));
            lock (Gate)
            {
                if (placement.Generation != generation || placement.Starts > 0)
                    return; // a newer start owns the placement
                if (used < placeAt)
                    continue; // (null, a process that is gone, compares false: it is let go below)
                if (placement.Cpus is { } cpus)
                    Place(pid, placement, cpus); // a host that exited meanwhile has no threads left to place
                if (!ReferenceEquals(placement, Server))
                    Hosts.Remove(pid); // placed for good, or gone: nothing due for it
                return;
            }
        }
    }

    /// <summary>User and system CPU time of process <paramref name="pid"/>; null once it is gone.</summary>
    private static TimeSpan? CpuTime(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return process.TotalProcessorTime;
        }
        catch (Exception error) when (error is ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }

    private static void Place(int pid, Placement placement, IReadOnlyList<int> cpus)
        => CpuAffinity.PlaceProcess(pid, cpus, exceptNamed: ReferenceEquals(placement, Server) ? null : CompilerThreads);

    /// <summary>Starts in progress, the CPUs to go back to, and which placement is the latest (an older one due later does nothing).</summary>
    private sealed class Placement
    {
        public int Starts;
        public IReadOnlyList<int>? Cpus;
        public long Generation;
    }

    private sealed class ServerStartScope : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 1)
                return;
            lock (Gate)
            {
                if (--Server.Starts == 0 && Server.Cpus is not null)
                    PlaceLater(Environment.ProcessId, Server, Warmup);
            }
        }
    }
}
