using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace ZeroPg.Soak;

/// <summary>
/// pgbench TPC-B with 8 clients (`-c 8 -j 2 -M simple`), in runs of at most a minute so a fault ends only one run; a run a
/// fault cut short (pgbench stops when its clients lose the server) is started again once the server answers.
/// </summary>
public sealed partial class Pgbench(SoakContext context)
{
    private long _transactions, _runs, _runsFailed, _runsFailedOutsideFaults;
    private string? _lastFailure;

    public static async Task InitializeAsync(SoakContext context, CancellationToken cancel)
    {
        // Client-side COPY of pgbench_accounts; a server that fails it still gets its tables made server-side.
        var (code, output) = await RunAsync(context, ["-i", "-s", "1", "-q"], TimeSpan.FromMinutes(5), cancel);
        if (code != 0)
        {
            context.Progress($"pgbench -i failed ({code}): {output.Trim().Split('\n')[^1]}; making the tables server-side (-I dtGvp)");
            (code, output) = await RunAsync(context, ["-i", "-s", "1", "-I", "dtGvp"], TimeSpan.FromMinutes(5), cancel);
            if (code != 0)
                throw new InvalidOperationException($"pgbench -i -I dtGvp failed: {output}");
        }
    }

    public async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var left = context.Options.Duration - context.Timeline.Now;
            var seconds = (int)Math.Min(60, Math.Floor(left.TotalSeconds));
            if (seconds < 2)
                return;
            var from = context.Timeline.Now;
            string[] rate = context.Options.PgbenchRate > 0 ? ["-R", context.Options.PgbenchRate.ToString(CultureInfo.InvariantCulture)] : [];
            var (code, output) = await RunAsync(context, ["-c", "8", "-j", "2", "-M", "simple", "-n", .. rate, "-T", seconds.ToString(CultureInfo.InvariantCulture)],
                TimeSpan.FromSeconds(seconds + 60), stop);
            if (stop.IsCancellationRequested && code != 0)
                return;
            Interlocked.Increment(ref _runs);
            if (Processed().Match(output) is { Success: true } processed)
                Interlocked.Add(ref _transactions, long.Parse(processed.Groups[1].Value, CultureInfo.InvariantCulture));
            if (code != 0)
            {
                Interlocked.Increment(ref _runsFailed);
                if (!context.Timeline.Overlaps(from, context.Timeline.Now))
                {
                    Interlocked.Increment(ref _runsFailedOutsideFaults);
                    _lastFailure = string.Join(" | ", output.Split('\n').Where(l => l.Contains("error", StringComparison.OrdinalIgnoreCase) || l.Contains("abort", StringComparison.OrdinalIgnoreCase)).Take(3));
                    context.Progress($"pgbench failed outside a fault ({code}): {_lastFailure}");
                }
                try
                {
                    await Task.Delay(1000, stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private static async Task<(int Code, string Output)> RunAsync(SoakContext context, string[] arguments, TimeSpan timeout, CancellationToken cancel)
    {
        var start = new ProcessStartInfo("pgbench")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["-h", "127.0.0.1", "-p", context.Server.Port.ToString(CultureInfo.InvariantCulture), "-U", "postgres", .. arguments, "postgres"])
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        limit.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            return (-1, await stdout + await stderr);
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    [GeneratedRegex("number of transactions actually processed: (\\d+)")]
    private static partial Regex Processed();

    public Dictionary<string, object> Report() => new()
    {
        ["transactions"] = Interlocked.Read(ref _transactions),
        ["tps"] = Math.Round(Interlocked.Read(ref _transactions) / Math.Max(1, context.Timeline.Now.TotalSeconds), 1),
        ["runs"] = Interlocked.Read(ref _runs),
        ["runsCutByFaults"] = Interlocked.Read(ref _runsFailed) - Interlocked.Read(ref _runsFailedOutsideFaults),
        ["runsFailedOutsideFaults"] = Interlocked.Read(ref _runsFailedOutsideFaults),
        ["lastFailure"] = _lastFailure ?? "",
    };
}
