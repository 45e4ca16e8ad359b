using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ZeroPg.Hosting;

/// <summary>The development loop's one line: <c>builder.Services.AddZeroPg(o => o.DataDirectory = "./data");</c></summary>
public static class ZeroPgServiceCollectionExtensions
{
    /// <summary>
    /// Runs a ZeroPg server with the app's host (a hosted service, <see cref="ZeroPgHost"/>, started before the app's
    /// own hosted services that come after this call) and adds a "zeropg" health check.
    /// </summary>
    public static IServiceCollection AddZeroPg(this IServiceCollection services, Action<ZeroPgOptions>? configure = null)
    {
        var options = new ZeroPgOptions();
        configure?.Invoke(options);
        options.Validate();
        services.TryAddSingleton(sp => new ZeroPgHost(options, sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance));
        services.AddHostedService(sp => new HostedZeroPg(sp.GetRequiredService<ZeroPgHost>()));
        services.AddHealthChecks().AddCheck<ZeroPgHealthCheck>("zeropg");
        return services;
    }

    /// <summary>The host's handle on the singleton, so resolving <see cref="ZeroPgHost"/> gives the running server.</summary>
    private sealed class HostedZeroPg(ZeroPgHost host) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => host.StartAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => host.StopAsync(cancellationToken);
    }
}
