using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Npgsql;
using ZeroPg.Hosting;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Hosting;

/// <summary>services.AddZeroPg(): the server starts and stops with the app's host and reports health.</summary>
public sealed class AddZeroPgTests
{
    [Fact]
    public async Task The_host_runs_the_server_and_its_health_check_queries_it()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddZeroPg(o => o.KeepWarmEngine = true);
        using var host = builder.Build();
        await host.StartAsync();
        var zeropg = host.Services.GetRequiredService<ZeroPgHost>();
        await using (var connection = new NpgsqlConnection(zeropg.ConnectionString + ";Pooling=false"))
        {
            await connection.OpenAsync();
            Assert.Equal("2", await connection.TextAsync("select 1 + 1"));
        }
        var health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        Assert.Equal(HealthStatus.Healthy, health.Entries["zeropg"].Status);
        var port = zeropg.Server.Port;
        await host.StopAsync();
        await using var after = new NpgsqlConnection($"Host=127.0.0.1;Port={port};Username=postgres;Pooling=false;Timeout=3");
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => after.OpenAsync());
    }
}
