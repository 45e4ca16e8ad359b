using ZeroPg.Hosting;

namespace ZeroPg.Engine;

/// <summary>
/// Where engine host processes run when <see cref="ZeroPgOptions.EngineHostCpus"/> places them: on any CPU while one of their
/// engines starts and for <see cref="SettleTime"/> after, on their own CPUs once none has started for that long. A start is
/// bound by CPU (Node's, the module's compile, Postgres opening its directory: on one core a first CREATE DATABASE took ~200
/// ms longer), and so are the seconds after it, while V8 compiles the engine's hot functions with TurboFan on its background
/// threads: on the engine's one core those compiles took turns with the engine's thread, and the p99 of `SELECT 1` right
/// after a start was ~4 ms against ~2 ms. `zeropg serve` places its own process the same way (<see cref="PlaceServer"/>: it
/// unpacks a new database's directory and JIT-compiles its first connections' code). Any thread that starts an engine calls
/// it, so its state is under one lock; a placement due later checks, under that lock, that no start came meanwhile.
/// </summary>
internal static class EngineHostCores
{
    /// <summary>How long after its last start a host (or the server) stays on any CPU.</summary>
    public static readonly TimeSpan SettleTime = TimeSpan.FromSeconds(10);

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
                PlaceLater(Environment.ProcessId, Server, SettleTime);
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

    /// <summary>An engine of host process <paramref name="pid"/> started, or failed to: on <paramref name="cpus"/> after <paramref name="settle"/> (default <see cref="SettleTime"/>) with no other start.</summary>
    public static void Started(int pid, IReadOnlyList<int> cpus, TimeSpan? settle = null)
    {
        lock (Gate)
        {
            if (!Hosts.TryGetValue(pid, out var host) || host.Starts == 0)
                return;
            host.Cpus = cpus;
            if (--host.Starts == 0)
                PlaceLater(pid, host, settle ?? SettleTime);
        }
    }

    private static void Begin(int pid, Placement placement, bool widen)
    {
        placement.Generation++; // a placement due later is off
        if (++placement.Starts == 1 && widen)
            CpuAffinity.PlaceProcess(pid, null);
    }

    private static void PlaceLater(int pid, Placement placement, TimeSpan settle)
    {
        var generation = ++placement.Generation;
        if (settle <= TimeSpan.Zero)
        {
            CpuAffinity.PlaceProcess(pid, placement.Cpus);
            return;
        }
        _ = Task.Delay(settle).ContinueWith(_ =>
        {
            lock (Gate)
            {
                if (placement.Generation == generation && placement.Starts == 0 && placement.Cpus is { } cpus)
                    CpuAffinity.PlaceProcess(pid, cpus); // a host that exited meanwhile has no threads left to place
                if (!ReferenceEquals(placement, Server) && placement.Generation == generation)
                    Hosts.Remove(pid); // placed for good, or gone: nothing due for it
            }
        }, TaskScheduler.Default);
    }

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
                    PlaceLater(Environment.ProcessId, Server, SettleTime);
            }
        }
    }
}
