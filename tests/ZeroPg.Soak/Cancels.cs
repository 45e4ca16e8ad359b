using Npgsql;

namespace ZeroPg.Soak;

/// <summary>
/// Every 10 s a long statement that must stop with 57014: in turn a pg_sleep(30) cancelled (CancelRequest) after 300 ms,
/// and a CPU-bound count under statement_timeout = 500ms. Counts how each ended and how long the stop took.
/// </summary>
public sealed class Cancels(SoakContext context)
{
    private readonly Outcomes _outcomes = new();
    private readonly List<double> _stopSeconds = [];
    private long _wrongOutcome;

    public async Task RunAsync(CancellationToken stop)
    {
        var n = 0;
        while (!stop.IsCancellationRequested)
        {
            var next = context.Timeline.Now + TimeSpan.FromSeconds(10);
            var from = context.Timeline.Now;
            var byTimeout = n++ % 2 == 1;
            try
            {
                await using var connection = await context.OpenAsync(stop);
                if (byTimeout)
                    await SoakContext.ExecuteAsync(connection, "SET statement_timeout = '500ms'", stop);
                await using var command = new NpgsqlCommand(byTimeout
                    ? "SELECT count(*) FROM generate_series(1, 2000000000)"
                    : "SELECT pg_sleep(30)", connection);
                var started = context.Timeline.Now;
                using var span = context.Activities.Begin(byTimeout ? "statement_timeout" : "cancel");
                var running = command.ExecuteNonQueryAsync(CancellationToken.None);
                var stopAsked = started + TimeSpan.FromMilliseconds(byTimeout ? 500 : 300);
                if (!byTimeout)
                {
                    await Task.Delay(300, stop);
                    command.Cancel();
                }
                try
                {
                    await running;
                    Interlocked.Increment(ref _wrongOutcome);
                    context.Progress($"cancel: {(byTimeout ? "the statement_timeout" : "the cancel")} did not stop the statement: it completed");
                }
                catch (Exception error) when (error is PostgresException { SqlState: PostgresErrorCodes.QueryCanceled }
                                                  or OperationCanceledException { InnerException: PostgresException { SqlState: PostgresErrorCodes.QueryCanceled } })
                {
                    // Npgsql reports its own Cancel() as an OperationCanceledException around the server's 57014.
                    lock (_stopSeconds)
                        _stopSeconds.Add((context.Timeline.Now - stopAsked).TotalSeconds);
                    _outcomes.Success();
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception error)
            {
                _outcomes.Error(context.Timeline, from, error);
                if (!context.Timeline.Overlaps(from, context.Timeline.Now))
                    context.Progress($"cancel ({(byTimeout ? "statement_timeout" : "CancelRequest")}) ended otherwise: {Outcomes.Describe(error)}");
            }
            if (!await context.Timeline.WaitUntilAsync(next, stop))
                return;
        }
    }

    public Dictionary<string, object> Report()
    {
        var report = _outcomes.Report();
        lock (_stopSeconds)
        {
            report["stopSecondsMedian"] = _stopSeconds.Count == 0 ? 0 : Math.Round(_stopSeconds.Order().ElementAt(_stopSeconds.Count / 2), 3);
            report["stopSecondsMax"] = _stopSeconds.Count == 0 ? 0 : Math.Round(_stopSeconds.Max(), 3);
        }
        report["completedDespiteCancel"] = Interlocked.Read(ref _wrongOutcome);
        return report;
    }
}
