using Microsoft.Extensions.Logging;
using ZeroPg.Engine;

namespace ZeroPg.Sessions;

/// <summary>What every client session shares: the engine, the scheduler, the registry, the options.</summary>
internal sealed class SessionServices(ZeroPgOptions options, EngineSupervisor engine, EngineScheduler scheduler, SessionRegistry registry, Statements.StatementCatalog statements, Hosting.ZeroPgMetrics metrics, ILoggerFactory loggerFactory)
{
    public ZeroPgOptions Options { get; } = options;
    public Hosting.ZeroPgMetrics Metrics { get; } = metrics;
    public EngineSupervisor Engine { get; } = engine;
    public EngineScheduler Scheduler { get; } = scheduler;
    public SessionRegistry Registry { get; } = registry;
    public Statements.StatementCatalog Statements { get; } = statements;
    public EngineSessionState EngineState { get; } = new();
    public NotificationHub Notifications { get; } = new();
    public ILogger Logger { get; } = loggerFactory.CreateLogger("ZeroPg.Sessions");
}
