using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace ZeroPg.Hosting.Dashboard;

/// <summary>
/// The live dashboard on the HTTP port (loopback by default, like /metrics): "/" is the page (no CDN: its
/// script and style are inline), "/api/status" one snapshot as JSON, "/events" a server-sent event stream of
/// snapshots every second for as long as the page is open.
/// </summary>
internal sealed class DashboardEndpoints(DashboardSource source)
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    public bool Handles(PathString path) => path.Value is "/" or "/api/status" or "/events";

    public async Task HandleAsync(HttpContext context)
    {
        var response = context.Response;
        switch (context.Request.Path.Value)
        {
            case "/":
                await source.RefreshSlotsAsync(context.RequestAborted);
                response.ContentType = "text/html; charset=utf-8";
                response.Headers.CacheControl = "no-store";
                await response.WriteAsync(DashboardPage.With(JsonSerializer.Serialize(source.Read(), DashboardJson.Default.DashboardSnapshot)));
                break;
            case "/api/status":
                await source.RefreshSlotsAsync(context.RequestAborted);
                response.ContentType = "application/json";
                await response.WriteAsync(JsonSerializer.Serialize(source.Read(), DashboardJson.Default.DashboardSnapshot));
                break;
            default:
                await StreamAsync(context);
                break;
        }
    }

    private async Task StreamAsync(HttpContext context)
    {
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-store";
        var closed = context.RequestAborted;
        try
        {
            while (!closed.IsCancellationRequested)
            {
                await source.RefreshSlotsAsync(closed);
                await response.WriteAsync($"data: {JsonSerializer.Serialize(source.Read(), DashboardJson.Default.DashboardSnapshot)}\n\n", closed);
                await response.Body.FlushAsync(closed);
                await Task.Delay(Interval, closed);
            }
        }
        catch (OperationCanceledException) when (closed.IsCancellationRequested)
        {
            // The page was closed.
        }
    }
}
