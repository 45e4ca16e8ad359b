using System.Diagnostics;
using ZeroPg.Engine;

namespace ZeroPg.Tests.Engine;

/// <summary>
/// The reply poll's rule against a CPU-bound neighbour (PollContention): waits whose yields each gave the core away for a
/// slice turn the poll off for a while; a long yield now and then does not. Timestamps are the test's.
/// </summary>
public sealed class PollContentionTests
{
    private static readonly long Ms = Stopwatch.Frequency / 1000;

    [Fact]
    public void Eight_waits_with_a_long_yield_turn_the_poll_off_for_half_a_second_then_it_polls_again()
    {
        var contention = new PollContention();
        var now = 1_000 * Ms;
        for (var i = 0; i < 8; i++)
        {
            Assert.True(contention.Polling(now), $"wait {i} polls");
            Assert.True(PollContention.IsLong(now, now + 2 * Ms)); // a 2 ms yield
            now += 2 * Ms;
            contention.Waited(hadLongYield: true, now);
        }
        Assert.False(contention.Polling(now));
        Assert.False(contention.Polling(now + 400 * Ms));
        Assert.True(contention.Polling(now + 501 * Ms));
    }

    [Fact]
    public void A_long_yield_now_and_then_keeps_the_poll_on()
    {
        var contention = new PollContention();
        var now = 1_000 * Ms;
        for (var i = 0; i < 1_000; i++)
        {
            Assert.True(contention.Polling(now), $"wait {i} polls");
            now += Ms / 10;
            contention.Waited(hadLongYield: i % 5 == 0, now); // one wait in five: 6-7 of a window of 32
        }
        Assert.False(PollContention.IsLong(now, now + Ms / 20)); // 50 µs: the engine's or a client's turn, not a slice
        Assert.False(PollContention.IsLong(now, now + Ms / 2)); // 500 µs: pgbench's threads' turn on a quiet machine, not a neighbour's slice
    }
}
