using Npgsql;

namespace ZeroPg.Soak;

/// <summary>
/// A SELECT 1 every second on a connection kept open (opened again after a fault). Its latency's p99 and its longest gap
/// between two answers are reported outside the fault windows (a kill until <see cref="SoakOptions.FaultGrace"/> after the
/// server answered again), and for the whole run.
/// </summary>
public sealed class Witness(SoakContext context)
{
    private readonly List<(TimeSpan At, double Seconds)> _answers = [];
    private readonly Outcomes _outcomes = new();

    public async Task RunAsync(CancellationToken stop)
    {
        NpgsqlConnection? connection = null;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var next = context.Timeline.Now + TimeSpan.FromSeconds(1);
                var from = context.Timeline.Now;
                try
                {
                    connection ??= await context.OpenAsync(stop);
                    await SoakContext.ScalarAsync(connection, "SELECT 1", stop);
                    lock (_answers)
                        _answers.Add((from, (context.Timeline.Now - from).TotalSeconds));
                    _outcomes.Success();
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception error)
                {
                    _outcomes.Error(context.Timeline, from, error);
                    if (connection is not null)
                        await connection.DisposeAsync();
                    connection = null;
                }
                if (!await context.Timeline.WaitUntilAsync(next, stop))
                    return;
            }
        }
        finally
        {
            if (connection is not null)
                await connection.DisposeAsync();
        }
    }

    /// <summary>(p99 latency outside fault windows, longest gap outside them, longest gap overall, worst latency outside them).</summary>
    public (double P99, double LongestGap, double LongestGapOverall, double Worst) Figures()
    {
        lock (_answers)
        {
            var outside = _answers.Where(a => !context.Timeline.Overlaps(a.At, a.At + TimeSpan.FromSeconds(a.Seconds))).Select(a => a.Seconds).Order().ToList();
            double gap = 0, gapOverall = 0;
            for (var i = 1; i < _answers.Count; i++)
            {
                var from = _answers[i - 1].At + TimeSpan.FromSeconds(_answers[i - 1].Seconds);
                var to = _answers[i].At + TimeSpan.FromSeconds(_answers[i].Seconds);
                // Beyond the one second between two queries: how long the witness went without an answer.
                var length = (to - from).TotalSeconds - 1;
                gapOverall = Math.Max(gapOverall, length);
                if (!context.Timeline.Overlaps(from, to))
                    gap = Math.Max(gap, length);
            }
            var p99 = outside.Count == 0 ? 0 : outside[Math.Min(outside.Count - 1, (int)Math.Ceiling(outside.Count * 0.99) - 1)];
            return (p99, Math.Max(0, gap), Math.Max(0, gapOverall), outside.Count == 0 ? 0 : outside[^1]);
        }
    }

    /// <summary>The slowest answers outside fault windows, with when they were asked and the heavy operations they overlapped.</summary>
    public List<string> Slowest(int count)
        => [.. SlowOutside(0).OrderByDescending(a => a.Seconds).Take(count)
            .Select(a => $"{a.At:hh\\:mm\\:ss} {a.Seconds:F2} s beside {context.Activities.Overlapping(a.At, a.At + TimeSpan.FromSeconds(a.Seconds))}")];

    /// <summary>Answers outside fault windows that took longer than <paramref name="seconds"/>.</summary>
    private List<(TimeSpan At, double Seconds)> SlowOutside(double seconds)
    {
        lock (_answers)
            return [.. _answers.Where(a => a.Seconds > seconds && !context.Timeline.Overlaps(a.At, a.At + TimeSpan.FromSeconds(a.Seconds)))];
    }

    public Dictionary<string, object> Report()
    {
        var report = _outcomes.Report();
        report["slowestOutsideFaults"] = Slowest(15);
        // What the answers over a second overlapped: the operations they may have waited behind.
        var slow = SlowOutside(1);
        report["slowerThan1sOutsideFaults"] = slow.Count;
        report["slowerThan1sBeside"] = context.Activities.Blame(slow.Select(a => (a.At, a.At + TimeSpan.FromSeconds(a.Seconds))));
        var (p99, gap, gapOverall, worst) = Figures();
        report["p99SecondsOutsideFaults"] = Math.Round(p99, 3);
        report["worstSecondsOutsideFaults"] = Math.Round(worst, 3);
        report["longestGapSecondsOutsideFaults"] = Math.Round(gap, 3);
        report["longestGapSecondsOverall"] = Math.Round(gapOverall, 3);
        return report;
    }
}
