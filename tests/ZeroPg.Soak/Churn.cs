using System.Diagnostics;

namespace ZeroPg.Soak;

/// <summary>A client that connects, runs one statement and disconnects, 20 times a second (two loops at 10/s each).</summary>
public sealed class Churn(SoakContext context)
{
    private readonly Outcomes _outcomes = new();

    public Task RunAsync(CancellationToken stop) => Task.WhenAll(LoopAsync(stop), LoopAsync(stop));

    private async Task LoopAsync(CancellationToken stop)
    {
        var pace = Stopwatch.StartNew();
        long n = 0;
        while (!stop.IsCancellationRequested)
        {
            var from = context.Timeline.Now;
            try
            {
                await using (var connection = await context.OpenAsync(stop))
                    await SoakContext.ScalarAsync(connection, "SELECT count(*) FROM pg_class", stop);
                _outcomes.Success();
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception error)
            {
                _outcomes.Error(context.Timeline, from, error);
            }
            var due = TimeSpan.FromMilliseconds(++n * 100) - pace.Elapsed;
            if (due > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(due, stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    public Dictionary<string, object> Report()
    {
        var report = _outcomes.Report();
        report["perSecond"] = Math.Round((_outcomes.Ok + _outcomes.ExpectedErrors + _outcomes.UnexpectedErrors) / Math.Max(1, context.Timeline.Now.TotalSeconds), 1);
        return report;
    }
}
