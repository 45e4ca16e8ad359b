using System.Globalization;
using System.Text;

namespace ZeroPg.Hosting;

/// <summary>
/// The engines' part of /metrics: each database's engine (its state and memory), the spare, how many engines are in each
/// <see cref="EngineState"/>, and the shared engine hosts of this process (their engines, memory, floor and recycles).
/// </summary>
internal static class EngineMetricsText
{
    private static readonly EngineState[] DatabaseStates = [EngineState.Running, EngineState.Idle, EngineState.Evicted];

    public static void Write(StringBuilder text, IReadOnlyList<DatabaseEngineMetric> engines, SpareEngineMetric? spare)
    {
        if (engines.Count > 0) // none with --engine postgres
        {
            WriteEachDatabase(text, engines, "zeropg_database_engine_running", "1 while the database's engine runs (an idle database's engine is stopped).", e => e.Running ? 1 : 0);
            WriteStates(text, engines);
            // Per database, so that a watcher follows the engine of its own database (a spare taken, a database dropped, change the sum).
            Header(text, "zeropg_database_engine_restarts_total", "counter", "Times the database's engine died and was restarted (since its engine last started after an eviction).");
            foreach (var engine in engines)
                text.Append("zeropg_database_engine_restarts_total{database=\"").Append(PrometheusText.Label(engine.Database)).Append("\"} ").Append(engine.Restarts.ToString(CultureInfo.InvariantCulture)).Append('\n');
            WriteEachDatabase(text, [.. engines.Where(e => e.MemoryBytes is not null)], "zeropg_database_engine_memory_bytes",
                "Resident memory the database's engine holds: its process's, or in a shared engine host its share of the host process's (split by WebAssembly memory; the host's engines sum to its RSS).", e => e.MemoryBytes!.Value);
            Header(text, "zeropg_engines", "gauge", "Engines in each state: running, idle, evicted (a database without one) and spare (started for the next CREATE DATABASE).");
            foreach (var state in Enum.GetValues<EngineState>())
            {
                var count = state == EngineState.Spare ? (spare is null ? 0 : 1) : engines.Count(e => e.State == state);
                text.Append("zeropg_engines{state=\"").Append(Name(state)).Append("\"} ").Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
        }
        if (spare?.MemoryBytes is { } spareMemory)
            PrometheusText.Write(text, "zeropg_spare_engine_memory_bytes", "gauge", "Memory the spare engine holds (as zeropg_database_engine_memory_bytes counts it).", spareMemory);
        WriteHosts(text);
    }

    private static void WriteStates(StringBuilder text, IReadOnlyList<DatabaseEngineMetric> engines)
    {
        Header(text, "zeropg_database_engine_state", "gauge",
            "1 for the state the database's engine is in: running (it has clients), idle (none), evicted (stopped, its memory given back).");
        foreach (var engine in engines)
        {
            foreach (var state in DatabaseStates)
            {
                text.Append("zeropg_database_engine_state{database=\"").Append(PrometheusText.Label(engine.Database)).Append("\",state=\"").Append(Name(state))
                    .Append("\"} ").Append(engine.State == state ? '1' : '0').Append('\n');
            }
        }
    }

    private static void WriteHosts(StringBuilder text)
    {
        var hosts = Engine.Pool.SharedEngineHosts.Running;
        if (hosts.Count == 0)
            return;
        Header(text, "zeropg_shared_engine_hosts", "gauge", "Shared engine host processes: serving (new engines start there) or retired (over its memory budget, exits when its last engine ends).");
        text.Append("zeropg_shared_engine_hosts{state=\"serving\"} ").Append(hosts.Count(h => !h.IsRetired).ToString(CultureInfo.InvariantCulture)).Append('\n');
        text.Append("zeropg_shared_engine_hosts{state=\"retired\"} ").Append(hosts.Count(h => h.IsRetired).ToString(CultureInfo.InvariantCulture)).Append('\n');
        PrometheusText.Write(text, "zeropg_shared_engine_host_engines", "gauge", "Engines running as workers of the shared engine hosts.", hosts.Sum(h => h.WorkerCount));
        PrometheusText.Write(text, "zeropg_shared_engine_host_resident_memory_bytes", "gauge", "Resident memory of the shared engine host processes (all their engines).", hosts.Sum(h => h.ResidentBytes ?? 0));
        PrometheusText.Write(text, "zeropg_shared_engine_host_floor_bytes", "gauge",
            "Memory the shared engine hosts hold beyond their engines' WebAssembly heaps (compared with the memory budget).", hosts.Sum(h => h.FloorBytes() ?? 0));
        PrometheusText.Write(text, "zeropg_shared_engine_host_recycles_total", "counter", "Shared engine hosts retired for passing the memory budget.", Engine.Pool.SharedEngineHosts.Recycles);
    }

    public static string Name(EngineState state) => state.ToString().ToLowerInvariant();

    private static void Header(StringBuilder text, string name, string type, string help)
    {
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
        text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
    }

    private static void WriteEachDatabase(StringBuilder text, IReadOnlyList<DatabaseEngineMetric> engines, string name, string help, Func<DatabaseEngineMetric, double> value)
    {
        Header(text, name, "gauge", help);
        foreach (var engine in engines)
            text.Append(name).Append("{database=\"").Append(PrometheusText.Label(engine.Database)).Append("\"} ").Append(value(engine).ToString("R", CultureInfo.InvariantCulture)).Append('\n');
    }
}
