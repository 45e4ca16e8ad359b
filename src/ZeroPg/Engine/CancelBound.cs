using System.Diagnostics;

namespace ZeroPg.Engine;

/// <summary>
/// The fallback for a cancel the engine does not act on: a batch still running <c>limit</c> after its cancel
/// was raised (or, for one cancelled while queued, after it started running) is stopped by killing the engine
/// (<see cref="EngineProcess"/> then fails that call with <see cref="EngineFailedException.KilledToCancel"/>).
/// One check per cancel, on a timer; nothing runs while no cancel is pending. Thread: <see cref="Arm"/> from
/// any thread, <see cref="Started"/> from the submit path and the reader thread (one timestamp, written
/// whole), the checks on the thread pool.
/// </summary>
internal sealed class CancelBound(Func<long> runningSequence, Func<long, bool> inFlight, Action<long, EngineCancelReason, TimeSpan> kill)
{
    private long _runningSince = Stopwatch.GetTimestamp();

    /// <summary>The call at the head of the engine's queue (the one running now) changed.</summary>
    public void Started() => Volatile.Write(ref _runningSince, Stopwatch.GetTimestamp());

    /// <summary>A cancel for batch <paramref name="sequence"/> was raised; a zero <paramref name="limit"/> never kills.</summary>
    public void Arm(long sequence, EngineCancelReason reason, TimeSpan limit)
    {
        if (limit > TimeSpan.Zero && sequence > 0)
            _ = WatchAsync(sequence, reason, limit, Stopwatch.GetTimestamp());
    }

    private async Task WatchAsync(long sequence, EngineCancelReason reason, TimeSpan limit, long armedAt)
    {
        var wait = limit;
        while (true)
        {
            await Task.Delay(wait);
            if (!inFlight(sequence))
                return; // it ended: the cancel worked (or the batch finished first)
            if (runningSequence() != sequence)
            {
                wait = limit; // still queued behind another batch: its bound counts from when it runs
                continue;
            }
            var since = Math.Max(armedAt, Volatile.Read(ref _runningSince));
            var elapsed = Stopwatch.GetElapsedTime(since);
            if (elapsed >= limit)
            {
                kill(sequence, reason, elapsed);
                return;
            }
            wait = limit - elapsed;
        }
    }
}
