using Microsoft.Extensions.Logging;
using ZeroPg.Engine;

namespace ZeroPg.Sessions;

/// <summary>
/// Who kept the others waiting: a client that held a database's shared engine for a second or more while other clients
/// queued for it is logged with what it was doing (its pg_stat_activity state and query), or the server's own work by its
/// kind, and counted in /metrics (zeropg_engine_long_holds_total), as Postgres's log_lock_waits names the holder a waiter
/// blocks behind. An engine serves one client at a time, so this line is where a slow query of an innocent client is
/// explained (the soak sums these lines by holder: tests/ZeroPg.Soak/EngineHolds.cs). Shorter holds are the engine's
/// ordinary turns: logging them would flood the log under load.
/// Thread: any session's, after the scheduler's lock (it reads the holder's activity under that activity's own lock).
/// </summary>
internal sealed partial class EngineHoldLog(EngineSupervisor engine, Hosting.ZeroPgMetrics metrics, ILogger logger)
{
    /// <summary>Postgres's deadlock_timeout, the wait after which log_lock_waits speaks.</summary>
    public static readonly TimeSpan Threshold = TimeSpan.FromSeconds(1);

    public static EngineHoldLog Attach(EngineScheduler scheduler, EngineSupervisor engine, Hosting.ZeroPgMetrics metrics, ILogger logger)
    {
        var log = new EngineHoldLog(engine, metrics, logger);
        scheduler.HoldLog = log;
        return log;
    }

    public void Held(object holder, TimeSpan held, int waiting)
    {
        metrics.RecordLongEngineHold();
        if (logger.IsEnabled(LogLevel.Information))
            Log.Held(logger, engine.Site.Name, (long)held.TotalMilliseconds, waiting, Describe(holder));
    }

    private static string Describe(object holder)
    {
        if (holder is not ClientSession session)
            return holder.GetType().Name; // the server's own work (a snapshot, a checkpoint)
        var activity = session.Activity.Current;
        var (busy, calls) = session.TurnWork;
        return $"client {session.Identity.ProcessId} ({activity.State}, {session.ConnectionState}; the engine ran its statements {(long)busy.TotalMilliseconds} ms in {calls} calls of the turn): {BatchHead.Printable(activity.Query)}";
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "engine of database {Database} held {Milliseconds} ms while {Waiting} waited, by {Holder}")]
        public static partial void Held(ILogger logger, string database, long milliseconds, int waiting, string holder);
    }
}
