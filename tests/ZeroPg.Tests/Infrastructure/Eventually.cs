using System.Diagnostics;

namespace ZeroPg.Tests.Infrastructure;

/// <summary>
/// Waits for a state instead of sleeping a fixed time: polls the condition until it holds or the timeout passes.
/// The one place in the tests that owns a deadline loop; a timeout fails with what was awaited (and the last state seen).
/// </summary>
public static class Eventually
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(10);

    public static Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null, TimeSpan? interval = null)
        => WaitUntilAsync(() => Task.FromResult(condition()), what, timeout, interval);

    public static Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null, TimeSpan? interval = null)
        => ValueAsync(condition, done => done, _ => what, timeout, interval);

    /// <summary>Reads <paramref name="read"/> until <paramref name="done"/> holds for its value and returns that value;
    /// on timeout the message has <paramref name="what"/> of the last value read.</summary>
    public static async Task<T> ValueAsync<T>(Func<Task<T>> read, Func<T, bool> done, Func<T, string> what, TimeSpan? timeout = null, TimeSpan? interval = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var value = await read();
            if (done(value))
                return value;
            if (clock.Elapsed > limit)
                throw new TimeoutException($"still not true after {limit.TotalSeconds:0.#} s: {what(value)}");
            await Task.Delay(interval ?? DefaultInterval);
        }
    }

    /// <summary>Tries <paramref name="attempt"/> until it returns without an exception that <paramref name="retry"/> accepts
    /// (a server still starting, a slot not yet freed); past the timeout the last such exception is thrown.</summary>
    public static async Task<T> SucceedsAsync<T>(Func<Task<T>> attempt, Func<Exception, bool> retry, TimeSpan? timeout = null, TimeSpan? interval = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await attempt();
            }
            catch (Exception error) when (retry(error) && clock.Elapsed <= limit)
            {
            }
            await Task.Delay(interval ?? DefaultInterval);
        }
    }

    /// <summary>Until <paramref name="count"/> clients wait for the engine of <paramref name="server"/>.</summary>
    public static Task QueuedAsync(ZeroPgServer server, int count = 1)
        => WaitUntilAsync(() => server.Services.Scheduler.QueueLength >= count, $"{count} client(s) queued for the engine");
}
