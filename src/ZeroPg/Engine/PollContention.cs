using System.Diagnostics;

namespace ZeroPg.Engine;

/// <summary>
/// Whether a poll loop that yields the CPU between polls (<see cref="PollingPipeReader"/>) should poll at all. A yield that
/// took <see cref="LongYield"/> or more gave the CPU to another process for a scheduler slice (milliseconds), not to the engine
/// or a client for a few microseconds of work. Now and then one does anyway (a timer, a daemon, a collection); when a quarter
/// of the polled waits in a row of <see cref="Window"/> had one, a CPU-bound neighbour shares the core, and every yield hands
/// it another slice while the reply waits: select-only with one client fell from ~13,000 to ~5,400 tps beside a nice-19 loop,
/// and to ~650 with --split-cores. Polling then stops for <see cref="Off"/>: the reader blocks at once, and the reply's
/// wake-up preempts the neighbour; then it polls again, and stops again if the neighbour is still there.
/// The engine host's request poll follows the same rule (engine-host/stdio.mjs). Thread: the reader's only.
/// </summary>
internal sealed class PollContention
{
    // 1 ms: beside a CPU-bound neighbour a yield hands it a slice (a millisecond or more), while on a quiet machine a yield to
    // the clients' own threads (pgbench's, with 8 clients on 2 cores) took 250 µs and more often enough that a 250 µs rule
    // turned the polls off there: main 0.89-0.95x of 2e3cfa9's tps, 0.96-1.00x with 1 ms, and no less beside the nice-19 loop
    // (bench/findings/throughput-since-2e3cfa9.md). ZEROPG_POLL_LONG_YIELD_US sets it for a measurement, as it does the engine
    // host's (engine-host/stdio.mjs): with 100000000 no yield counts as long and the polls never stop, as before 4343e31.
    private static readonly long LongYield = Stopwatch.Frequency * LongYieldMicroseconds() / 1_000_000;
    private static readonly long Off = Stopwatch.Frequency / 2; // 500 ms
    private const int Window = 32;
    private const int Contended = 8;

    private long _offUntil;
    private int _waits;
    private int _longs;

    private static long LongYieldMicroseconds()
        => long.TryParse(Environment.GetEnvironmentVariable("ZEROPG_POLL_LONG_YIELD_US"), out var us) && us > 0 ? Math.Min(us, 1_000_000_000) : 1000;

    /// <summary>Whether a wait starting at <paramref name="now"/> may poll.</summary>
    public bool Polling(long now) => now >= _offUntil;

    /// <summary>Whether the step from <paramref name="before"/> to <paramref name="now"/> (a poll and a yield) was a long yield.</summary>
    public static bool IsLong(long before, long now) => now - before >= LongYield;

    /// <summary>A polled wait ended at <paramref name="now"/>; <paramref name="hadLongYield"/>: one of its yields was long.</summary>
    public void Waited(bool hadLongYield, long now)
    {
        if (hadLongYield)
            _longs++;
        if (++_waits < Window && _longs < Contended)
            return;
        if (_longs >= Contended)
            _offUntil = now + Off;
        _waits = 0;
        _longs = 0;
    }
}
