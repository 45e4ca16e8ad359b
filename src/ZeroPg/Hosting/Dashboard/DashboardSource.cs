using System.Diagnostics;
using ZeroPg.Databases;
using ZeroPg.Sessions;

namespace ZeroPg.Hosting.Dashboard;

/// <summary>
/// Reads what the dashboard shows from the server's own state (the session registry and each session's
/// activity, the database catalog, the metrics, the backup status); nothing runs in an engine. Statements per
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
        var slots = databases.Running
            .SelectMany(d => d.ReplicationSlots.Active.Select(a => $"{a.Slot} ({d.DatabaseName}, streaming to pid {a.ProcessId})"))
            .ToList();
        return new DashboardSnapshot(now, _uptime.Elapsed.TotalSeconds, Rate(), dbs.Sum(d => d.Queued), connections, dbs, backup, slots);
    }

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
