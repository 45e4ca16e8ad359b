using ZeroPg.Databases;

namespace ZeroPg.Hosting;

/// <summary>
/// Every engine of a server, its <see cref="EngineState"/> and the memory it holds, read from the database catalog (for
/// /metrics and the dashboard). The memory is measured: an engine that is a process of its own holds that process's
/// resident memory; the engines of a shared engine host (worker threads of one Node process) share that process's
/// resident memory, each in proportion to its WebAssembly memory, so they sum to the process's RSS, never more.
/// (A worker's WebAssembly memory alone is the memory it reserved, 128 MB from its start whatever it touched: reported as
/// such, every engine showed 134217728 bytes and together more than their process.)
/// </summary>
internal static class EngineInventory
{
    public static IReadOnlyList<DatabaseEngineMetric> Databases(DatabaseCatalog catalog) => Measure(catalog).Databases;

    public static SpareEngineMetric? Spare(DatabaseCatalog catalog) => Measure(catalog).Spare;

    public static (IReadOnlyList<DatabaseEngineMetric> Databases, SpareEngineMetric? Spare) Measure(DatabaseCatalog catalog)
    {
        var databases = catalog.Names.Select(name =>
        {
            var entry = catalog.Find(name);
            var engine = entry?.RunningServices?.Engine;
            var state = engine is null ? EngineState.Evicted : entry!.Clients > 0 ? EngineState.Running : EngineState.Idle;
            return (Name: name, State: state, Engine: new Measured(engine?.EngineProcessId, engine?.RunsInSharedHost == true, engine?.EngineMemoryBytes), Restarts: engine?.Restarts ?? 0);
        }).ToList();
        var spare = catalog.Spare; // read once: the spare may be taken meanwhile
        var spareEngine = spare is { } s ? new Measured(s.Engine.ProcessId, s.Engine.IsSharedHostWorker, s.Engine.MemoryBytes) : null;
        var memory = Apportion([.. databases.Select(d => d.Engine), .. spareEngine is null ? (Measured[])[] : [spareEngine]], ProcessMemory.ResidentBytes);
        var metrics = databases.Select((d, i) => new DatabaseEngineMetric(d.Name, d.State, d.Engine.ProcessId is null ? null : memory[i], d.Engine.SharedHost, d.Restarts)).ToList();
        var spareMetric = spare is { } k ? new SpareEngineMetric(k.Kind.Template, memory[^1], spareEngine!.SharedHost, k.Engine.ProcessId) : null;
        return (metrics, spareMetric);
    }

    /// <summary>An engine as measured: its process (the shared host's for a worker), whether it is a worker, and what it reports (a process's RSS, a worker's WebAssembly memory).</summary>
    internal sealed record Measured(int? ProcessId, bool SharedHost, long? ReportedBytes);

    /// <summary>
    /// Each engine's memory: its own (a process's RSS) or, for the workers of one shared host, that host's resident memory
    /// split by their WebAssembly memory (equally when none reported one yet).
    /// </summary>
    internal static long?[] Apportion(IReadOnlyList<Measured> engines, Func<int, long?> residentBytes)
    {
        var memory = new long?[engines.Count];
        for (var i = 0; i < engines.Count; i++)
        {
            if (!engines[i].SharedHost)
                memory[i] = engines[i].ReportedBytes;
        }
        foreach (var host in Enumerable.Range(0, engines.Count).Where(i => engines[i].SharedHost && engines[i].ProcessId is not null).GroupBy(i => engines[i].ProcessId!.Value))
        {
            if (residentBytes(host.Key) is not { } resident)
                continue;
            var members = host.ToList();
            var weights = members.Select(i => Math.Max(0, engines[i].ReportedBytes ?? 0)).ToList();
            var total = weights.Sum();
            var given = 0L;
            for (var k = 0; k < members.Count; k++)
            {
                // The last takes what rounding left, so the host's engines add up to exactly its resident memory.
                var share = k == members.Count - 1 ? resident - given
                    : total > 0 ? (long)((double)resident * weights[k] / total) : resident / members.Count;
                memory[members[k]] = share;
                given += share;
            }
        }
        return memory;
    }
}
