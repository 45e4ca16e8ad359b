using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ZeroPg.Hosting;

/// <summary>Healthy when the server answers a query as a client would (registered by AddZeroPg as "zeropg").</summary>
internal sealed class ZeroPgHealthCheck(ZeroPgHost host) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!host.IsRunning)
            return HealthCheckResult.Unhealthy("ZeroPg has not started");
        var result = await host.Server.ExecScriptAsync("select 1", cancellationToken: cancellationToken);
        return result.ExitCode == 0 ? HealthCheckResult.Healthy($"port {host.Server.Port}") : HealthCheckResult.Unhealthy(result.Error);
    }
}
