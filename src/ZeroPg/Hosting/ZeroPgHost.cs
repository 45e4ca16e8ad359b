using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ZeroPg.Hosting;

/// <summary>
/// A ZeroPg server as a hosted service of an app's host (see <see cref="ZeroPgServiceCollectionExtensions.AddZeroPg"/>):
/// started with the host, stopped with it. Read <see cref="ConnectionString"/> once the host has started.
/// </summary>
public sealed class ZeroPgHost(ZeroPgOptions options, ILoggerFactory loggerFactory) : IHostedService, IAsyncDisposable
{
    private ZeroPgServer? _server;

    /// <summary>The running server; throws before the host started it.</summary>
    public ZeroPgServer Server => _server ?? throw new InvalidOperationException("ZeroPg has not started yet: read it after the host started (IHost.StartAsync).");

    public string ConnectionString => Server.GetConnectionString();

    public bool IsRunning => _server is not null;

    public async Task StartAsync(CancellationToken cancellationToken)
        => _server = await ZeroPgServer.StartAsync(options, loggerFactory, cancellationToken);

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is not null)
            await _server.StopAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
            await _server.DisposeAsync();
    }
}
