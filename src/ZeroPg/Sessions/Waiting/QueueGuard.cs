using System.Diagnostics;
using ZeroPg.Protocol;

namespace ZeroPg.Sessions.Waiting;

/// <summary>
/// Watches a queued wait for the engine against its <see cref="QueueLimits"/>: the task it returns completes with the wait,
/// or fails with the limit's <see cref="PgErrorException"/> (the caller then abandons the wait: the statement never runs).
/// <paramref name="behindTransaction"/> says whether another client's open transaction block holds the engine now.
/// </summary>
internal static class QueueGuard
{
    public static async Task WatchAsync(Task wait, QueueLimits limits, long queuedAt, Func<bool> behindTransaction)
    {
        while (!wait.IsCompleted)
        {
            var waited = Stopwatch.GetElapsedTime(queuedAt);
            if (limits.Expired(waited, behindTransaction()) is { } error)
                throw new PgErrorException(error);
            using var timer = new CancellationTokenSource();
            await Task.WhenAny(wait, Task.Delay(limits.NextCheck(waited), timer.Token));
            timer.Cancel(); // most waits end before the check: no timer left behind
        }
        await wait;
    }
}
