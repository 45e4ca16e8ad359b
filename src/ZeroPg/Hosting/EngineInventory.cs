using ZeroPg.Databases;

namespace ZeroPg.Hosting;

/// <summary>Every engine of a server and its <see cref="EngineState"/>, read from the database catalog (for /metrics and the dashboard).</summary>
internal static class EngineInventory
{
    public static IReadOnlyList<DatabaseEngineMetric> Databases(DatabaseCatalog catalog) => [.. catalog.Names.Select(name =>
    {
        var entry = catalog.Find(name);
        var engine = entry?.RunningServices?.Engine;
        var state = engine is null ? EngineState.Evicted : entry!.Clients > 0 ? EngineState.Running : EngineState.Idle;
        return new DatabaseEngineMetric(name, state, engine?.EngineMemoryBytes, engine?.RunsInSharedHost == true);
    })];

    public static SpareEngineMetric? Spare(DatabaseCatalog catalog)
        => catalog.Spare is { } spare ? new SpareEngineMetric(spare.Kind.Template, spare.Engine.MemoryBytes, spare.Engine.IsSharedHostWorker, spare.Engine.ProcessId) : null;
}
