using Microsoft.AspNetCore.Http;

namespace ZeroPg.Hosting;

/// <summary>
/// /healthz (the process is alive), /readyz (the engine runs and the wire port accepts) and /metrics
/// (Prometheus text), and the live dashboard, served by the same Kestrel host as the Postgres listeners.
/// </summary>
internal sealed class HealthEndpoints(ZeroPgMetrics metrics, Func<bool> isReady)
{
    /// <summary>The live dashboard ("/", "/api/status", "/events"), when the server has one (PGlite engines).</summary>
    public Dashboard.DashboardEndpoints? Dashboard { get; init; }

    /// <summary>A reason to answer /readyz with 503 although the engine is ready (the backup is behind); null when none.</summary>
    public Func<string?> Problem { get; init; } = () => null;

    public Task HandleAsync(HttpContext context)
    {
        var response = context.Response;
        switch (context.Request.Path.Value)
        {
            case "/healthz":
                return Text(response, StatusCodes.Status200OK, "ok\n");
            case "/readyz":
                if (!isReady())
                    return Text(response, StatusCodes.Status503ServiceUnavailable, "not ready\n");
                return Problem() is { } problem
                    ? Text(response, StatusCodes.Status503ServiceUnavailable, problem + "\n")
                    : Text(response, StatusCodes.Status200OK, "ready\n");
            case "/metrics":
                return MetricsAsync(context);
            case var _ when Dashboard?.Handles(context.Request.Path) == true:
                return Dashboard.HandleAsync(context);
            default:
                return Text(response, StatusCodes.Status404NotFound, "not found: /healthz, /readyz, /metrics, / (dashboard)\n");
        }
    }

    private async Task MetricsAsync(HttpContext context)
    {
        var slots = await metrics.ReplicationSlots(context.RequestAborted);
        context.Response.ContentType = PrometheusText.ContentType;
        await context.Response.WriteAsync(PrometheusText.Render(metrics, slots));
    }

    private static Task Text(HttpResponse response, int status, string body)
    {
        response.StatusCode = status;
        response.ContentType = "text/plain; charset=utf-8";
        return response.WriteAsync(body);
    }
}
