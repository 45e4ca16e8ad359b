using System.Diagnostics;
using ZeroPg.Databases;
using ZeroPg.Sessions;

namespace ZeroPg.Hosting.Dashboard;

/// <summary>
/// Reads what the dashboard shows from the server's own state (the session registry and each session's
/// activity, the database catalog, the metrics, the backup status); nothing runs in an engine except the slots' lag,
/// read every <see cref="SlotInterval"/> while a page streams (<see cref="RefreshSlotsAsync"/>). Statements per
/// second are the batch counter's rise between two reads. Thread-safe: the rate's last reading is the only
/// state, swapped under a lock.
/// </summary>
internal sealed class DashboardSource(SessionRegistry registry, DatabaseCatalog databases, ZeroPgMetrics metrics)
{
    private readonly Stopwatch _uptime = Stopwatch.StartNew();
    private readonly Lock _gate = new();
    private (TimeSpan At, long Batches) _last;

    public DashboardSnapshot Read()
    {
        var now = DateTimeOffset.UtcNow;
        var connections = registry.Sessions
            .Select(session => Connection(session, now))
            .OrderBy(c => c.Pid)
            .ToList();
        var dbs = databases.Names.Select(name =>
        {
            var entry = databases.Find(name);
            var running = entry?.RunningServices;
            var pid = running?.Engine.EngineProcessId;
            return new DashboardDatabase(name, running is not null, entry?.Clients ?? 0, running?.Scheduler.QueueLength ?? 0,
                pid, pid is { } p ? ProcessMemory.ResidentBytes(p) : null);
        }).ToList();
        var backup = metrics.BackupStatus?.Invoke() is { } status
            ? new DashboardBackup(status.Url, status.State, status.Detail, status.LagSeconds, status.LagBytes)
            : null;
        var slots = Slots();
        return new DashboardSnapshot(now, _uptime.Elapsed.TotalSeconds, Rate(), dbs.Sum(d => d.Queued), connections, dbs, backup, slots);
    }

    /// <summary>
    /// Reads the slots with their lag of every running database no client holds now (<see cref="ZeroPgMetrics.RefreshIdleReplicationSlots"/>:
    /// a moment each, as a /metrics scrape does); the page's stream calls it every <see cref="SlotInterval"/>, not every second.
    /// </summary>
    public Task RefreshSlotsAsync(CancellationToken cancellationToken) => metrics.RefreshIdleReplicationSlots(cancellationToken);

    public static readonly TimeSpan SlotInterval = TimeSpan.FromSeconds(5);

    /// <summary>Each slot as the last read found it, and which walsender streams from it now (known without the engine).</summary>
    private List<string> Slots()
    {
        var streaming = databases.Running
            .SelectMany(d => d.ReplicationSlots.Active.Select(a => (Database: d.DatabaseName, a.Slot, a.ProcessId)))
            .ToDictionary(a => (a.Database, a.Slot), a => a.ProcessId);
        var slots = new List<string>();
        foreach (var slot in metrics.LastReplicationSlots().OrderBy(s => s.Database, StringComparer.Ordinal).ThenBy(s => s.Slot, StringComparer.Ordinal))
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

    private double Rate()
    {
        var at = _uptime.Elapsed;
        var batches = metrics.Batches;
        lock (_gate)
        {
            var (lastAt, lastBatches) = _last;
            _last = (at, batches);
            var seconds = (at - lastAt).TotalSeconds;
            return lastAt == TimeSpan.Zero || seconds <= 0 ? 0 : Math.Round((batches - lastBatches) / seconds, 1);
        }
    }
}
