using Microsoft.Extensions.Logging;

namespace ZeroPg.Sessions;

/// <summary>
/// Logs who held a database's one engine for a second or more while others waited (<see cref="EngineScheduler.LongHeld"/>): the
/// client's pid and its last statement, or the server's own work. Every other client of the database waited that long, so a
/// slow SELECT 1 can be put down to its cause from the log alone (the soak counts these lines, issue 62).
/// </summary>
internal static partial class EngineHoldLog
{
    /// <summary>Shorter holds are the engine's ordinary turns: logging them would flood the log under load.</summary>
    public static readonly TimeSpan LongHold = TimeSpan.FromSeconds(1);

    /// <summary>Makes <paramref name="services"/>' scheduler log its long holds in which somebody waited; returns the services.</summary>
    public static SessionServices Attached(SessionServices services)
    {
        services.Scheduler.LongHeld = (owner, held, waiting) =>
        {
            if (waiting > 0 && services.Logger.IsEnabled(LogLevel.Information))
                Held(services.Logger, services.DatabaseName, held.TotalMilliseconds, waiting, Describe(owner));
        };
        return services;
    }

    private static string Describe(object owner) => owner switch
    {
        ClientSession client => $"client {client.Identity.ProcessId}: {Engine.BatchHead.Printable(client.Activity.Query)}",
        _ => owner.GetType().Name, // the server's own work (a snapshot, a checkpoint, a cleanup)
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "engine of database {Database} held {Milliseconds:0} ms while {Waiting} waited, by {Holder}")]
    private static partial void Held(ILogger logger, string database, double milliseconds, int waiting, string holder);
}
