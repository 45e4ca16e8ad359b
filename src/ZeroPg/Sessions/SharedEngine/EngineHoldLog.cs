using Microsoft.Extensions.Logging;

namespace ZeroPg.Sessions;

/// <summary>
/// Who kept the others waiting: a client that held the shared engine for a second or more while other clients queued for
/// it is logged with what it was doing (its pg_stat_activity state and query) and counted in /metrics
/// (zeropg_engine_long_holds_total), as Postgres's log_lock_waits names the holder a waiter blocks behind. An engine serves
/// one client at a time, so this line is where a slow query of an innocent client is explained.
/// Thread: any session's, after the scheduler's lock (it reads the holder's activity under that activity's own lock).
/// </summary>
internal sealed partial class EngineHoldLog(Hosting.ZeroPgMetrics metrics, ILogger logger)
{
    /// <summary>Postgres's deadlock_timeout, the wait after which log_lock_waits speaks.</summary>
    public static readonly TimeSpan Threshold = TimeSpan.FromSeconds(1);

    public static EngineHoldLog Attach(EngineScheduler scheduler, Hosting.ZeroPgMetrics metrics, ILogger logger)
    {
        var log = new EngineHoldLog(metrics, logger);
        scheduler.HoldLog = log;
        return log;
    }

    public void Held(object holder, TimeSpan held, int waiting)
    {
        metrics.RecordLongEngineHold();
        if (!logger.IsEnabled(LogLevel.Information))
            return;
        if (holder is ClientSession session)
        {
            var activity = session.Activity.Current;
            Log.ClientHeld(logger, session.Identity.ProcessId, (long)held.TotalMilliseconds, waiting, activity.State,
                Engine.BatchHead.Printable(activity.Query));
        }
        else
            Log.ServerHeld(logger, holder.GetType().Name, (long)held.TotalMilliseconds, waiting);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "client {Pid} held the shared engine for {Milliseconds} ms while {Waiting} client(s) waited; it was {State}: {Query}")]
        public static partial void ClientHeld(ILogger logger, int pid, long milliseconds, int waiting, string state, string query);

        [LoggerMessage(Level = LogLevel.Information, Message = "the server's own work ({Holder}) held the shared engine for {Milliseconds} ms while {Waiting} client(s) waited")]
        public static partial void ServerHeld(ILogger logger, string holder, long milliseconds, int waiting);
    }
}
