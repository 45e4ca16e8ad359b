using System.Diagnostics;

namespace ZeroPg.Engine;

/// <summary>
/// The fallback for a cancel the engine does not act on: a batch still running <c>limit</c> after its cancel
/// was raised (or, for one cancelled while queued, after it started running) is stopped by killing the engine
/// (<see cref="EngineProcess"/> then fails that call with <see cref="EngineFailedException.KilledToCancel"/>).
/// One check per cancel, on a timer; nothing runs while no cancel is pending. Thread: <see cref="Arm"/> from
/// any thread, <see cref="Started"/> from the submit path and the reader thread (one timestamp, written
/// whole), the checks on the thread pool.
/// Time the server's reader spent waiting for a client to read its reply does not count (<paramref name="clientWaitTicks"/>,
/// Stopwatch ticks so far): the engine host then blocks in its write of the reply, inside the query, where no interrupt is
/// checked; Postgres too waits for such a client, and <see cref="ZeroPgOptions.ClientWriteTimeout"/> bounds it.
/// </summary>
internal sealed class CancelBound(Func<long> runningSequence, Func<long, int> statementsEnded, Func<long> clientWaitTicks,
    Action<long, EngineCancelReason, TimeSpan> kill)
{
    private long _runningSince = Stopwatch.GetTimestamp();

    /// <summary>The call at the head of the engine's queue (the one running now) changed.</summary>
    public void Started() => Volatile.Write(ref _runningSince, Stopwatch.GetTimestamp());

    /// <summary>
    /// A cancel for batch <paramref name="sequence"/> was raised; a zero <paramref name="limit"/> never kills.
    /// <paramref name="endedBefore"/>: the statements of the batch that had ended before the cancel was sent (null: now).
    /// </summary>
    public void Arm(long sequence, EngineCancelReason reason, TimeSpan limit, int? endedBefore = null)
    {
        var ended = endedBefore ?? statementsEnded(sequence);
        if (limit > TimeSpan.Zero && sequence > 0 && ended >= 0)
            _ = WatchAsync(sequence, reason, limit, Stopwatch.GetTimestamp(), clientWaitTicks(), ended);
    }

    private async Task WatchAsync(long sequence, EngineCancelReason reason, TimeSpan limit, long armedAt, long clientWaitAtArm, int endedAtArm)
    {
        var wait = limit;
        while (true)
        {
            await Task.Delay(wait);
            var ended = statementsEnded(sequence);
            if (ended < 0 || ended > endedAtArm)
                return; // it ended, or the statement running at the cancel did (see EngineCall.StatementsEnded)
            if (runningSequence() != sequence)
            {
                wait = limit; // still queued behind another batch: its bound counts from when it runs
                continue;
            }
            var since = Math.Max(armedAt, Volatile.Read(ref _runningSince));
            var waitedForClient = Stopwatch.GetElapsedTime(0, clientWaitTicks() - clientWaitAtArm);
            var elapsed = Stopwatch.GetElapsedTime(since) - waitedForClient;
            if (elapsed >= limit)
            {
                kill(sequence, reason, elapsed);
                return;
            }
            wait = limit - elapsed;
        }
    }
}
