using Microsoft.Extensions.Logging;

namespace ZeroPg.Engine.Pool;

/// <summary>Which shared engine hosts a server's engines may go to: servers of one process with equal settings share them.</summary>
/// <param name="NodePath">The node that runs the host.</param>
/// <param name="HostScriptPath">The engine host's host.mjs (engine-pool.mjs is its neighbour).</param>
/// <param name="MemoryBudget">Bytes the host may hold beyond its engines' heaps before new engines go to a new host (0: never).</param>
/// <param name="Group">Tests only: servers of different groups never share a host (a test that kills its host kills no other test's engines).</param>
/// <param name="Cpus">The CPUs the host runs on (<see cref="ZeroPgOptions.EngineHostCpus"/>); null: the server's.</param>
internal sealed record SharedHostSettings(string NodePath, string HostScriptPath, long MemoryBudget, string? Group, IReadOnlyList<int>? Cpus)
{
    /// <summary>The shared host settings of a server's engines, or null when its engines are processes of their own.</summary>
    public static SharedHostSettings? For(ZeroPgOptions options, string nodePath, string hostScriptPath)
        => EngineHostModes.UsesSharedHost(options) ? new(nodePath, hostScriptPath, options.EngineHostMemoryBudget, options.EngineHostGroup, options.EngineHostCpus) : null;

    public string Key => string.Join('\0', NodePath, HostScriptPath, MemoryBudget.ToString(System.Globalization.CultureInfo.InvariantCulture), Group ?? "",
        Cpus is null ? "" : string.Join(',', Cpus));
}

/// <summary>
/// The shared engine hosts of this process (static, as <see cref="WarmEngine"/>'s spare): for each <see cref="SharedHostSettings"/>
/// one current host that new engines go to, started on first use (again after it died), and the retired ones still running
/// their last engines. WebAssembly memory never shrinks and a stopped worker leaves some memory behind in the process (V8's,
/// glibc's arenas), so a host is recycled: when a new engine is about to start and the current host's floor
/// (<see cref="SharedEngineHost.FloorBytes"/>) has passed the budget, that host is retired (it exits once its last engine
/// ends) and the engine starts in a new one. A current host whose last engine ended while over the budget exits too.
/// </summary>
internal static partial class SharedEngineHosts
{
    private static readonly Lock Gate = new();
    private static readonly Dictionary<string, SharedEngineHost> Current = new(StringComparer.Ordinal);
    private static readonly List<SharedEngineHost> Hosts = []; // current and retired, until their process is gone
    private static long _nextWorkerId; // unique in this process, across hosts: a worker's id names it in logs
    private static long _recycles;

    /// <summary>How long this process's exit waits for its idle hosts to exit.</summary>
    private static readonly TimeSpan ExitWait = TimeSpan.FromSeconds(5);

    static SharedEngineHosts()
    {
        // A host exits by itself once this process is gone (its stdin ends), but a moment later: `zeropg serve` must not end
        // before its engines' process (a caller that waits for the server waits for its engines). Hosts still running engines
        // (a server never stopped) are left to end on their own when this process's ends of their channels close.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => CloseIdle(ExitWait);
    }

    /// <summary>The shared hosts of this process whose process runs (current and retired; for /metrics and the dashboard).</summary>
    public static IReadOnlyList<SharedEngineHost> Running
    {
        get
        {
            lock (Gate)
                return [.. Hosts.Where(h => !h.IsGone)];
        }
    }

    /// <summary>Hosts retired because their floor passed the budget, since this process started.</summary>
    public static long Recycles => Interlocked.Read(ref _recycles);

    /// <summary>
    /// Starts the current host for <paramref name="settings"/> now if there is none, so that Node's start, the module's
    /// compilation and the blank worker's load run while the server does the rest of its own start (locks, extension checks,
    /// the web host): a server's first engine then waits for less of it. Never throws: a Node that cannot be started is
    /// reported by the start that needs it (NodeRuntime's check, then the engine's start).
    /// </summary>
    public static void Prestart(SharedHostSettings settings, ILogger logger)
    {
        try
        {
            lock (Gate)
                CurrentFor(settings, logger);
        }
        catch (Exception error) when (error is System.ComponentModel.Win32Exception or EngineFailedException or IOException)
        {
            Log.PrestartFailed(logger, error.Message);
        }
    }

    /// <summary>Starts an engine in the current host for <paramref name="settings"/> (a new one if there is none, or it died, or it is over its budget).</summary>
    public static async Task<SharedHostWorker> StartWorkerAsync(SharedHostSettings settings, EngineStartOptions startOptions, IReadOnlyDictionary<string, string> environment,
        ILogger logger, CancellationToken cancellationToken)
    {
        SharedHostWorker worker;
        SharedEngineHost host;
        lock (Gate)
        {
            host = CurrentFor(settings, logger);
            // Registered before the lock is let go: a host with an engine about to start is never empty, so never closed under it.
            worker = host.Reserve(Interlocked.Increment(ref _nextWorkerId));
        }
        if (settings.Cpus is null)
            return await host.StartWorkerAsync(worker, startOptions, environment, cancellationToken);
        EngineHostCores.BeginStart(host.ProcessId); // any CPU until the engine has started (EngineProcess ends that)
        try
        {
            return await host.StartWorkerAsync(worker, startOptions, environment, cancellationToken);
        }
        catch
        {
            EngineHostCores.Started(host.ProcessId, settings.Cpus);
            throw;
        }
    }

    private static SharedEngineHost CurrentFor(SharedHostSettings settings, ILogger logger)
    {
        if (Current.TryGetValue(settings.Key, out var host) && !host.IsGone && !host.IsRetired)
        {
            if (settings.MemoryBudget <= 0 || !host.HasRunEngine || host.FloorBytes() is not { } floor || floor <= settings.MemoryBudget)
                return host;
            Log.Recycling(logger, host.ProcessId, floor >> 20, settings.MemoryBudget >> 20, host.WorkerCount);
            Interlocked.Increment(ref _recycles);
            host.Retire();
        }
        host = SharedEngineHost.Start(settings.NodePath, settings.HostScriptPath, logger,
            onEmpty: empty => RetireIfOverBudget(empty, settings, logger), onGone: Remove);
        Current[settings.Key] = host;
        Hosts.Add(host);
        return host;
    }

    /// <summary>A current host whose last engine ended: over the budget, it exits now rather than hold its floor until the next start.</summary>
    private static void RetireIfOverBudget(SharedEngineHost host, SharedHostSettings settings, ILogger logger)
    {
        if (settings.MemoryBudget <= 0 || host.IsGone)
            return;
        lock (Gate)
        {
            if (host.IsRetired || host.WorkerCount > 0 || host.FloorBytes() is not { } floor || floor <= settings.MemoryBudget)
                return;
            Log.Recycling(logger, host.ProcessId, floor >> 20, settings.MemoryBudget >> 20, 0);
            Interlocked.Increment(ref _recycles);
            if (Current.TryGetValue(settings.Key, out var current) && ReferenceEquals(current, host))
                Current.Remove(settings.Key);
            host.Retire();
        }
    }

    /// <summary>Closes every host that runs no engine and waits up to <paramref name="wait"/> for their processes to exit.</summary>
    internal static void CloseIdle(TimeSpan wait)
    {
        List<SharedEngineHost> idle;
        lock (Gate)
        {
            idle = [.. Hosts.Where(h => !h.IsGone && h.WorkerCount == 0)];
            foreach (var (key, _) in Current.Where(c => idle.Contains(c.Value)).ToList())
                Current.Remove(key);
            foreach (var host in idle)
                host.Retire(quiet: true); // the loggers may be gone by now
        }
        Task.WaitAll([.. idle.Select(h => h.Exited)], wait);
    }

    private static void Remove(SharedEngineHost host)
    {
        lock (Gate)
        {
            Hosts.Remove(host);
            foreach (var (key, current) in Current.ToList())
            {
                if (ReferenceEquals(current, host))
                    Current.Remove(key);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Debug, Message = "the shared engine host could not be started ahead of its first engine: {Message}")]
        public static partial void PrestartFailed(ILogger logger, string message);

        [LoggerMessage(Level = LogLevel.Information, Message = "shared engine host pid {Pid} holds {Floor} MB beyond its engines' heaps, over its budget of {Budget} MB: new engines start in a new host, this one exits when its {Engines} engines have ended")]
        public static partial void Recycling(ILogger logger, int pid, long floor, long budget, int engines);
    }
}
