using System.Diagnostics;

namespace ZeroPg.Tests.Infrastructure;

/// <summary>Waits for a state instead of sleeping a fixed time: polls the condition until it holds or the timeout passes.</summary>
public static class Eventually
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(15);

    public static Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
        => WaitUntilAsync(() => Task.FromResult(condition()), what, timeout);

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > limit)
                throw new TimeoutException($"still not true after {limit.TotalSeconds:0.#} s: {what}");
            await Task.Delay(10);
        }
    }

    /// <summary>Until <paramref name="count"/> clients wait for the engine of <paramref name="server"/>.</summary>
    public static Task QueuedAsync(ZeroPgServer server, int count = 1)
        => WaitUntilAsync(() => server.Services.Scheduler.QueueLength >= count, $"{count} client(s) queued for the engine");
}
