using System.Diagnostics;
using ZeroPg.Databases;
using ZeroPg.Sessions;

namespace ZeroPg.Hosting.Dashboard;

/// <summary>
/// Reads what the dashboard shows from the server's own state (the session registry and each session's
/// activity, the database catalog, the metrics, the backup status); nothing runs in an engine except the slots' lag,
/// read at most every <see cref="SlotInterval"/> when a page or /api/status asks (<see cref="RefreshSlotsAsync"/>), so the
/// first request already lists them. Rates and the chart come from <see cref="DashboardHistory"/>, sampled every second
/// from the start. Thread-safe: the slots' last reading time is the only state here, under a lock.
/// </summary>
internal sealed class DashboardSource
{
    private readonly Stopwatch _uptime = Stopwatch.StartNew();
    private readonly Lock _gate = new();
    private readonly SessionRegistry _registry;
    private readonly DatabaseCatalog _databases;
    private readonly ZeroPgMetrics _metrics;
    private readonly DashboardHistory _history;
    private long _slotsReadAt = -1;

    public DashboardSource(SessionRegistry registry, DatabaseCatalog databases, ZeroPgMetrics metrics, CancellationToken stopping)
    {
        _registry = registry;
        _databases = databases;
        _metrics = metrics;
        _history = new DashboardHistory(metrics, Queued, stopping);
    }

    public DashboardSnapshot Read()
    {
        var now = DateTimeOffset.UtcNow;
        var connections = _registry.Sessions
            .Select(session => Connection(session, now))
            .OrderBy(c => c.Pid)
            .ToList();
        var (engines, spare) = EngineInventory.Measure(_databases);
        var measured = engines.ToDictionary(d => d.Database);
        var dbs = _databases.Names.Select(name =>
        {
            var entry = _databases.Find(name);
            var running = entry?.RunningServices;
            var pid = running?.Engine.EngineProcessId;
            var metric = measured.GetValueOrDefault(name);
            return new DashboardDatabase(name, running is not null, EngineMetricsText.Name(metric?.State ?? EngineState.Evicted), entry?.Clients ?? 0, running?.Scheduler.QueueLength ?? 0,
                pid, metric?.MemoryBytes); // a process's RSS, or a shared host worker's share of its host's RSS (EngineInventory)
        }).ToList();
        var backup = _metrics.BackupStatus?.Invoke() is { } status
            ? new DashboardBackup(status.Url, status.State, status.Detail, status.LagSeconds, status.LagBytes)
            : null;
        var slots = Slots();
        return new DashboardSnapshot(now, _uptime.Elapsed.TotalSeconds, _history.StatementsPerSecond(), dbs.Sum(d => d.Queued), connections, dbs, backup, slots,
            Engines(dbs, spare), Hosts(), _history.Points());
    }

    /// <summary>Every engine: each running database's, and the spare with what it will become.</summary>
    private List<DashboardEngine> Engines(List<DashboardDatabase> dbs, SpareEngineMetric? spare)
    {
        var engines = dbs.Where(d => d.EnginePid is not null)
            .Select(d => new DashboardEngine("database", d.Name, d.State, d.EnginePid!.Value,
                _databases.Find(d.Name)?.RunningServices?.Engine.RunsInSharedHost == true, d.EngineRssBytes))
            .ToList();
        if (spare is not null)
        {
            engines.Add(new DashboardEngine(spare.Template is null ? "spare" : "template copy", spare.Template, EngineMetricsText.Name(EngineState.Spare),
                spare.ProcessId, spare.SharedHost, spare.MemoryBytes));
        }
        return engines;
    }

    /// <summary>The shared engine host processes of this process (none when every engine is a process of its own).</summary>
    private static List<DashboardEngineHost> Hosts() => [.. Engine.Pool.SharedEngineHosts.Running
        .Select(h => new DashboardEngineHost(h.ProcessId, h.IsRetired ? "retired" : "serving", h.WorkerCount, h.ResidentBytes, h.FloorBytes()))];

    private int Queued() => _databases.Names.Sum(name => _databases.Find(name)?.RunningServices?.Scheduler.QueueLength ?? 0);

    /// <summary>
    /// Reads the slots with their lag of every running database no client holds now (<see cref="ZeroPgMetrics.RefreshIdleReplicationSlots"/>:
    /// a moment each, as a /metrics scrape does), unless they were read less than <see cref="SlotInterval"/> ago.
    /// </summary>
    public Task RefreshSlotsAsync(CancellationToken cancellationToken)
    {
        bool first;
        lock (_gate)
        {
            if (_slotsReadAt >= 0 && Stopwatch.GetElapsedTime(_slotsReadAt) < SlotInterval)
                return Task.CompletedTask;
            first = _slotsReadAt < 0;
            _slotsReadAt = Stopwatch.GetTimestamp();
        }
        // The first read may wait a moment for an engine a client holds (between its units, never inside its transaction),
        // so the first page lists the slots that exist; later ones skip such an engine and keep its last figures.
        return first ? _metrics.ReplicationSlots(cancellationToken) : _metrics.RefreshIdleReplicationSlots(cancellationToken);
    }

    public static readonly TimeSpan SlotInterval = TimeSpan.FromSeconds(5);

    /// <summary>Each slot as the last read found it, and which walsender streams from it now (known without the engine).</summary>
    private List<string> Slots()
    {
        var streaming = _databases.Running
            .SelectMany(d => d.ReplicationSlots.Active.Select(a => (Database: d.DatabaseName, a.Slot, a.ProcessId)))
            .ToDictionary(a => (a.Database, a.Slot), a => a.ProcessId);
        var slots = new List<string>();
        foreach (var slot in _metrics.LastReplicationSlots().OrderBy(s => s.Database, StringComparer.Ordinal).ThenBy(s => s.Slot, StringComparer.Ordinal))
        {
            var state = streaming.Remove((slot.Database, slot.Slot), out var pid) ? $"streaming to pid {pid}" : "inactive";
            if (slot.Lost)
                state += ", lost (past max_slot_wal_keep_size)";
            slots.Add($"{slot.Slot} ({slot.Database}): {state}, lag {Size(slot.LagBytes)}, {slot.LagSeconds:0.#} s");
        }
        slots.AddRange(streaming.Select(a => $"{a.Key.Slot} ({a.Key.Database}): streaming to pid {a.Value}"));
        return slots;
    }

    private static string Size(double bytes) => bytes switch
    {
        < 1024 => $"{bytes:0} B",
        < 1024 * 1024 => $"{bytes / 1024:0.#} kB",
        _ => $"{bytes / (1024 * 1024):0.#} MB",
    };

    private static DashboardConnection Connection(ClientSession session, DateTimeOffset now)
    {
        var activity = session.Activity.Current;
        var waitingFor = activity.WaitsForEngine ? "engine" : session.WaitsForAdvisoryLock ? "advisory lock" : null;
        var state = activity.WaitsForEngine ? "queued" : activity.State;
        var query = activity.Query.Length > 200 ? activity.Query[..200] + "…" : activity.Query;
        return new DashboardConnection(session.Identity.ProcessId, session.Identity.Role, session.Services.DatabaseName, activity.ApplicationName,
            state, waitingFor, (now - activity.StateChange).TotalSeconds, activity.TransactionStart is { } start ? (now - start).TotalSeconds : null, query);
    }
}
