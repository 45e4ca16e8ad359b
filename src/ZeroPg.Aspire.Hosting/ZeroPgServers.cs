using System.Collections.Concurrent;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using ZeroPg;

namespace Aspire.Hosting;

/// <summary>
/// Runs the AppHost's ZeroPg servers: starts each when Aspire initializes its resource, makes its databases,
/// reports state to the dashboard, and stops them (Postgres's fast shutdown: sessions end, CHECKPOINT,
/// engine closed) when the AppHost stops, so a data directory is consistent for the next start.
/// Owns the running servers; a start and a stop of one resource never overlap (one gate per resource).
/// </summary>
internal sealed partial class ZeroPgServers(DistributedApplicationModel model, ResourceNotificationService notifications,
    ResourceLoggerService loggers, ILoggerFactory appHostLoggers) : IHostedLifecycleService
{
    private readonly ConcurrentDictionary<ZeroPgServerResource, Running> _running = new();

    /// <summary>One resource's server: set and cleared under <see cref="Gate"/> (start, stop); the health checks only read it.</summary>
    private sealed class Running
    {
        private ZeroPgServer? _server;

        public SemaphoreSlim Gate { get; } = new(1, 1);

        public ZeroPgServer? Server
        {
            get => Volatile.Read(ref _server);
            set => Volatile.Write(ref _server, value);
        }
    }

    public void Start(ZeroPgServerResource resource, InitializeResourceEvent e, CancellationToken cancellationToken)
    {
        var running = _running.GetOrAdd(resource, _ => new Running());
        // In the background: Aspire initializes the other resources meanwhile; failures are reported as the resource's state.
        _ = Task.Run(() => StartAsync(resource, running, e, cancellationToken), CancellationToken.None);
    }

    private async Task StartAsync(ZeroPgServerResource resource, Running running, InitializeResourceEvent e, CancellationToken cancellationToken)
    {
        var serverLoggers = new ResourceLoggerFactory(loggers.GetLogger(resource), appHostLoggers);
        var logger = serverLoggers.CreateLogger($"ZeroPg.Aspire.{resource.Name}");
        await running.Gate.WaitAsync(cancellationToken);
        try
        {
            // What makes WaitFor() on this resource's own dependencies hold it back, as for any resource Aspire starts.
            await e.Eventing.PublishAsync(new BeforeResourceStartedEvent(resource, e.Services), cancellationToken);
            await notifications.PublishUpdateAsync(resource, s => s with { State = KnownResourceStates.Starting });
            var options = resource.Options;
            options.Security.User = resource.UserNameParameter is { } user ? await user.GetValueAsync(cancellationToken) ?? "postgres" : "postgres";
            options.Security.Password = await resource.PasswordParameter.GetValueAsync(cancellationToken);
            if (resource.PrimaryEndpoint.IsAllocated)
                options.Port = resource.PrimaryEndpoint.BoundPort; // a restart keeps the port referencing processes were given
            var server = running.Server = await ZeroPgServer.StartAsync(options, serverLoggers, cancellationToken);
            await CreateDatabasesAsync(resource, server, cancellationToken);
            resource.PrimaryEndpoint.Bind(server.Host, server.Port);
            if (server.HttpPort is { } httpPort)
                resource.DashboardEndpoint.Bind(server.Host, httpPort);
            Log.Started(logger, server.Url, options.IsMemory ? "in memory" : options.DataDirectory);
            await notifications.PublishUpdateAsync(resource, s => s with
            {
                State = KnownResourceStates.Running,
                StartTimeStamp = DateTime.UtcNow,
                Urls = [
                    new UrlSnapshot("tcp", resource.PrimaryEndpoint.Url, IsInternal: false),
                    .. server.HttpPort is null ? (UrlSnapshot[])[] : [new UrlSnapshot("dashboard", resource.DashboardEndpoint.Url + "/", IsInternal: false)],
                ],
                Properties = [.. s.Properties.Where(p => p.Name != "zeropg.data"), new("zeropg.data", options.IsMemory ? "memory://" : options.DataDirectory)],
            });
            foreach (var database in Databases(resource))
                await notifications.PublishUpdateAsync(database, s => s with { State = KnownResourceStates.Running, StartTimeStamp = DateTime.UtcNow });
        }
        catch (Exception error) when (error is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.StartFailed(logger, error.Message, error);
            await notifications.PublishUpdateAsync(resource, s => s with { State = KnownResourceStates.FailedToStart });
            foreach (var database in Databases(resource))
                await notifications.PublishUpdateAsync(database, s => s with { State = KnownResourceStates.FailedToStart });
        }
        finally
        {
            running.Gate.Release();
        }
    }

    /// <summary>CREATE DATABASE through the server, as a client would, for each database not there yet.</summary>
    private static async Task CreateDatabasesAsync(ZeroPgServerResource resource, ZeroPgServer server, CancellationToken cancellationToken)
    {
        if (resource.Databases.Count == 0)
            return;
        await using var connection = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await connection.OpenAsync(cancellationToken);
        foreach (var name in resource.Databases.Values.Distinct(StringComparer.Ordinal))
        {
            await using var exists = new NpgsqlCommand("select 1 from pg_database where datname = $1", connection) { Parameters = { new() { Value = name } } };
            if (await exists.ExecuteScalarAsync(cancellationToken) is not null)
                continue;
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>An Npgsql connection string for a running server (the health checks'), or null before it started.</summary>
    public string? ConnectionString(ZeroPgServerResource resource, string? database)
    {
        if (!_running.TryGetValue(resource, out var running) || running.Server is not { } server || !resource.PrimaryEndpoint.IsAllocated)
            return null;
        return new NpgsqlConnectionStringBuilder(server.GetConnectionString()) { Database = database ?? "postgres", Pooling = false, Timeout = 5 }.ConnectionString;
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// After every hosted service stopped, Aspire's orchestrator included: the processes that used the servers have
    /// ended, so no pooled connection holds a session open and the stop is a CHECKPOINT and an engine close.
    /// </summary>
    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        await Task.WhenAll(_running.Select(entry => StopAsync(entry.Key, entry.Value)));
    }

    private async Task StopAsync(ZeroPgServerResource resource, Running running)
    {
        await running.Gate.WaitAsync();
        try
        {
            if (running.Server is not { } server)
                return;
            running.Server = null;
            await notifications.PublishUpdateAsync(resource, s => s with { State = KnownResourceStates.Stopping });
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await server.DisposeAsync();
            Log.Stopped(loggers.GetLogger(resource), (long)clock.Elapsed.TotalMilliseconds);
            await notifications.PublishUpdateAsync(resource, s => s with { State = KnownResourceStates.Finished, StopTimeStamp = DateTime.UtcNow });
            foreach (var database in Databases(resource))
                await notifications.PublishUpdateAsync(database, s => s with { State = KnownResourceStates.Finished, StopTimeStamp = DateTime.UtcNow });
        }
        finally
        {
            running.Gate.Release();
        }
    }

    private IEnumerable<ZeroPgDatabaseResource> Databases(ZeroPgServerResource resource)
        => model.Resources.OfType<ZeroPgDatabaseResource>().Where(d => d.Parent == resource);

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "ZeroPg listening at {Url} ({Data})")]
        public static partial void Started(ILogger logger, string url, string data);

        [LoggerMessage(Level = LogLevel.Information, Message = "ZeroPg stopped in {Milliseconds} ms (sessions ended, CHECKPOINT, engines closed)")]
        public static partial void Stopped(ILogger logger, long milliseconds);

        [LoggerMessage(Level = LogLevel.Error, Message = "ZeroPg failed to start: {Message}")]
        public static partial void StartFailed(ILogger logger, string message, Exception error);
    }
}
