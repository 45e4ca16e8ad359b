using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Aspire.Hosting;

/// <summary>
/// Healthy when a client can log in and run a query: the server's in the postgres database, a database's in it
/// (so a resource that WaitFor()s the database starts once the database exists and answers).
/// </summary>
internal sealed class ZeroPgHealthCheck(ZeroPgServerResource resource, string? database, IServiceProvider services) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (services.GetRequiredService<ZeroPgServers>().ConnectionString(resource, database) is not { } connectionString)
            return HealthCheckResult.Unhealthy($"{resource.Name} has not started");
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand("select 1", connection);
            await command.ExecuteScalarAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception error) when (error is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            return HealthCheckResult.Unhealthy(error.Message, error);
        }
    }
}
