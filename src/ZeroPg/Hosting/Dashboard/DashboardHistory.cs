using System.Diagnostics;

namespace ZeroPg.Hosting.Dashboard;

/// <summary>
/// The dashboard's figures over time: once a second, from the server's start, the clients' statement counter, the time
/// those statements took, and the engines' queue length; <see cref="Keep"/> of them. Rates are differences between
/// samples over a real window (<see cref="RateWindow"/>), so every reader sees the same figure, an idle server reads
/// 0, and a page's first paint agrees with /api/status. Thread safety: the sampling loop is the only writer; readers
/// copy under <see cref="_gate"/>.
/// </summary>
internal sealed class DashboardHistory
{
    public static readonly TimeSpan SampleInterval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan RateWindow = TimeSpan.FromSeconds(5);
    public const int Keep = 300; // five minutes at one a second

    private readonly record struct Sample(long At, long Statements, double StatementSeconds, int Queued);

    private readonly Lock _gate = new();
    private readonly Queue<Sample> _samples = new(Keep + 1);
    private readonly ZeroPgMetrics _metrics;
    private readonly Func<int> _queued;

    public DashboardHistory(ZeroPgMetrics metrics, Func<int> queued, CancellationToken stopping)
    {
        _metrics = metrics;
        _queued = queued;
        Take();
        _ = SampleAsync(stopping);
    }

    /// <summary>Statements per second over the last <see cref="RateWindow"/> (or since the first sample, when younger), up to now.</summary>
    public double StatementsPerSecond()
    {
        var now = Stopwatch.GetTimestamp();
        var statements = _metrics.Statements;
        Sample from;
        lock (_gate)
        {
            from = _samples.First();
            foreach (var sample in _samples.Reverse())
            {
                if (Stopwatch.GetElapsedTime(sample.At, now) >= RateWindow)
                {
                    from = sample;
                    break;
                }
            }
        }
        var seconds = Stopwatch.GetElapsedTime(from.At, now).TotalSeconds;
        return seconds <= 0 ? 0 : Math.Round((statements - from.Statements) / seconds, 1);
    }

    /// <summary>One point a second, oldest first: statements per second, queue length, and mean statement latency (ms) in that second.</summary>
    public IReadOnlyList<DashboardPoint> Points()
    {
        Sample[] samples;
        lock (_gate)
            samples = [.. _samples];
        var points = new List<DashboardPoint>(samples.Length);
        for (var i = 1; i < samples.Length; i++)
        {
            var (before, after) = (samples[i - 1], samples[i]);
            var seconds = Stopwatch.GetElapsedTime(before.At, after.At).TotalSeconds;
            var statements = after.Statements - before.Statements;
            var latency = statements > 0 ? (after.StatementSeconds - before.StatementSeconds) * 1000 / statements : 0;
            points.Add(new DashboardPoint(
                Math.Round(Stopwatch.GetElapsedTime(after.At).TotalSeconds, 1),
                statements,
                seconds <= 0 ? 0 : Math.Round(statements / seconds, 1),
                after.Queued,
                Math.Round(latency, 2)));
        }
        return points;
    }

    private async Task SampleAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(SampleInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping))
                Take();
        }
        catch (OperationCanceledException)
        {
            // The server stops.
        }
    }

    private void Take()
    {
        var sample = new Sample(Stopwatch.GetTimestamp(), _metrics.Statements, _metrics.StatementSeconds, _queued());
        lock (_gate)
        {
            _samples.Enqueue(sample);
            while (_samples.Count > Keep + 1)
                _samples.Dequeue();
        }
    }
}
