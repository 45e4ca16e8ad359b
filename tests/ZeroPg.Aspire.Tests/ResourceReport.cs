using System.Text;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;

namespace ZeroPg.Aspire.Tests;

/// <summary>
/// What each resource of an AppHost was doing when a wait gave up: its state, its health reports and its log, so a
/// start that hangs on a CI machine says which resource held it and why, instead of a bare TimeoutException.
/// </summary>
internal static class ResourceReport
{
    private const int LogLinesPerResource = 60;

    /// <summary>Awaits <paramref name="wait"/>; when it times out, fails with the report of every resource.</summary>
    public static async Task WaitAsync(DistributedApplication app, Task wait, TimeSpan timeout, string what)
    {
        try
        {
            await wait.WaitAsync(timeout);
        }
        catch (TimeoutException error)
        {
            throw new TimeoutException($"{what}: not done after {timeout.TotalSeconds:0} s\n{await DescribeAsync(app)}", error);
        }
    }

    private static async Task<string> DescribeAsync(DistributedApplication app)
    {
        var text = new StringBuilder();
        var model = app.Services.GetRequiredService<DistributedApplicationModel>();
        var logs = app.Services.GetRequiredService<ResourceLoggerService>();
        foreach (var resource in model.Resources)
        {
            if (app.ResourceNotifications.TryGetCurrentState(resource.Name, out var state))
            {
                var health = string.Join(", ", state.Snapshot.HealthReports.Select(r => $"{r.Name}={r.Status?.ToString() ?? "pending"} {r.Description} {r.ExceptionText}".Trim()));
                text.AppendLine($"== {resource.Name}: {state.Snapshot.State?.Text ?? "no state"}; health: {(health.Length == 0 ? "none" : health)}");
            }
            else
                text.AppendLine($"== {resource.Name}: no state published");
            // The in-memory backlog comes first, then the watch waits for more: a short watch reads what was logged.
            var lines = new List<string>();
            using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            try
            {
                await foreach (var batch in logs.WatchAsync(resource.Name).WithCancellation(cancel.Token))
                    lines.AddRange(batch.Select(line => line.Content));
            }
            catch (OperationCanceledException)
            {
            }
            foreach (var line in lines.TakeLast(LogLinesPerResource))
                text.AppendLine("   " + line);
        }
        return text.ToString();
    }
}
