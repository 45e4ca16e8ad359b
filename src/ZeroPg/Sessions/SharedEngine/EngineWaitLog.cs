using Microsoft.Extensions.Logging;
using ZeroPg.Engine;

namespace ZeroPg.Sessions;

/// <summary>
/// Why a client waited: a client that waited a second or more for its database's shared engine is logged with the turns that
/// ran meanwhile, the longest first (who held it, how long, and what it was doing when it gave the engine up), as Postgres's
/// log_lock_waits names a waiter's blockers. <see cref="EngineHoldLog"/> names one long hold; a slow call is more often many
/// shorter turns in a row (a queue of clients, each idle a moment in its transaction), which only the waiter's side sees.
/// Keeps the last <see cref="Kept"/> turns that others waited behind. At most one line a second per database: under a load
/// where every wait is long the line counts the waits it stands for.
/// Thread: any session's, after the scheduler's lock; this object's lock owns the ring of turns and the rate limit.
/// </summary>
internal sealed partial class EngineWaitLog(EngineSupervisor engine, ILogger logger)
{
    /// <summary>Turns kept: a waiter of a second is behind a few dozen turns at most, unless they are short ones.</summary>
    private const int Kept = 64;

    /// <summary>A turn this long gets what its holder was doing at its end (shorter ones are the engine's ordinary turns).</summary>
    private static readonly TimeSpan Described = TimeSpan.FromMilliseconds(100);

    private readonly object _gate = new();
    private readonly Turn[] _turns = new Turn[Kept];
    private int _next;
    private long _lastLine; // Stopwatch timestamp of the last line logged
    private int _unlogged; // long waits since that line that got no line of their own

    public static EngineWaitLog Attach(EngineScheduler scheduler, EngineSupervisor engine, ILogger logger)
    {
        var log = new EngineWaitLog(engine, logger);
        scheduler.WaitLog = log;
        return log;
    }

    /// <summary>A turn that ended while others waited (<paramref name="granted"/> and <paramref name="released"/> are Stopwatch timestamps).</summary>
    public void TurnEnded(object holder, long granted, long released)
    {
        var doing = System.Diagnostics.Stopwatch.GetElapsedTime(granted, released) >= Described ? Doing(holder) : null;
        lock (_gate)
        {
            _turns[_next] = new Turn(holder, granted, released, doing);
            _next = (_next + 1) % Kept;
        }
    }

    /// <summary>A client granted the engine after waiting since <paramref name="since"/> (a Stopwatch timestamp) until <paramref name="now"/>.</summary>
    public void Waited(object waiter, long since, long now)
    {
        if (!logger.IsEnabled(LogLevel.Information))
            return;
        var waited = System.Diagnostics.Stopwatch.GetElapsedTime(since, now);
        var turns = new List<Turn>();
        int alsoWaited;
        lock (_gate)
        {
            if (_lastLine != 0 && System.Diagnostics.Stopwatch.GetElapsedTime(_lastLine, now) < TimeSpan.FromSeconds(1))
            {
                _unlogged++;
                return;
            }
            _lastLine = now;
            alsoWaited = _unlogged;
            _unlogged = 0;
            foreach (var turn in _turns)
            {
                if (turn.Holder is not null && turn.Released > since)
                    turns.Add(turn);
            }
        }
        turns.Sort((a, b) => (b.Released - b.Granted).CompareTo(a.Released - a.Granted));
        var text = new System.Text.StringBuilder();
        foreach (var turn in turns.Take(3))
        {
            if (text.Length > 0)
                text.Append("; ");
            text.Append(Name(turn.Holder!)).Append(' ')
                .Append((long)System.Diagnostics.Stopwatch.GetElapsedTime(turn.Granted, turn.Released).TotalMilliseconds).Append(" ms");
            if (turn.Doing is not null)
                text.Append(" (").Append(turn.Doing).Append(')');
        }
        Log.Waited(logger, Name(waiter), (long)waited.TotalMilliseconds, engine.Site.Name, turns.Count, turns.Count == Kept ? "or more " : "",
            text.Length > 0 ? text.ToString() : "none kept", alsoWaited);
    }

    private static string Name(object holder) => holder is ClientSession session ? $"client {session.Identity.ProcessId}" : holder.GetType().Name;

    private static string? Doing(object holder)
    {
        if (holder is not ClientSession session)
            return null;
        var activity = session.Activity.Current;
        return $"{activity.State}: {BatchHead.Printable(activity.Query)}";
    }

    private readonly record struct Turn(object? Holder, long Granted, long Released, string? Doing);

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "{Waiter} waited {Milliseconds} ms for the engine of database {Database}, behind {Turns} {OrMore}turns; the longest: {Longest} ({AlsoWaited} other waits of 1 s or more since the last such line)")]
        public static partial void Waited(ILogger logger, string waiter, long milliseconds, string database, int turns, string orMore, string longest, int alsoWaited);
    }
}
