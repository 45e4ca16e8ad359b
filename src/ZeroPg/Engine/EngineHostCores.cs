using ZeroPg.Hosting;

namespace ZeroPg.Engine;

/// <summary>
/// Where engine host processes run when <see cref="ZeroPgOptions.EngineHostCpus"/> places them: on any CPU while one of their
/// engines starts (a start is bound by CPU: Node's, the module's compile, Postgres opening its directory; on one core a
/// first CREATE DATABASE took ~200 ms longer), on their own CPUs once none is starting. `zeropg serve` places its own
/// process too (<see cref="PlaceServer"/>): it also runs on any CPU while an engine starts (it unpacks a new database's
/// directory first). Counts the starts in progress; any thread that starts an engine calls it, so the counts are under one lock.
/// </summary>
internal static class EngineHostCores
{
    private static readonly Lock Gate = new();
    private static readonly Dictionary<int, int> Starting = [];
    private static IReadOnlyList<int>? _serverCpus;
    private static int _serverStarts;

    /// <summary>Places this process (a server of its own: `zeropg serve`) on <paramref name="cpus"/>, except while engines start.</summary>
    public static void PlaceServer(IReadOnlyList<int> cpus)
    {
        lock (Gate)
        {
            _serverCpus = cpus;
            if (_serverStarts == 0)
                CpuAffinity.PlaceProcess(Environment.ProcessId, cpus);
        }
    }

    /// <summary>An engine start (with what the server does for it first) begins: this process on any CPU until it is disposed.</summary>
    public static IDisposable ServerStart()
    {
        lock (Gate)
        {
            if (++_serverStarts == 1 && _serverCpus is not null)
                CpuAffinity.PlaceProcess(Environment.ProcessId, null);
        }
        return new ServerStartScope();
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
                if (--_serverStarts == 0 && _serverCpus is { } cpus)
                    CpuAffinity.PlaceProcess(Environment.ProcessId, cpus);
            }
        }
    }

    /// <summary>An engine is about to start in host process <paramref name="pid"/>: any CPU until <see cref="Started"/>.</summary>
    public static void BeginStart(int pid)
    {
        lock (Gate)
        {
            var starts = Starting.GetValueOrDefault(pid) + 1;
            Starting[pid] = starts;
            if (starts == 1)
                CpuAffinity.PlaceProcess(pid, null);
        }
    }

    /// <summary>An engine of host process <paramref name="pid"/> started, or failed to: its own CPUs again once no other is starting.</summary>
    public static void Started(int pid, IReadOnlyList<int> cpus)
    {
        lock (Gate)
        {
            if (!Starting.TryGetValue(pid, out var starts))
                return;
            if (starts > 1)
            {
                Starting[pid] = starts - 1;
                return;
            }
            Starting.Remove(pid);
            CpuAffinity.PlaceProcess(pid, cpus);
        }
    }
}
