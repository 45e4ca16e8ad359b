using ZeroPg.Engine;
using ZeroPg.Sessions;

namespace ZeroPg.Replication.Slots;

/// <summary>
/// Runs a read of ZeroPg's own in a database's engine between its clients' units, holding its scheduler like a client (never
/// inside a client's transaction), for a moment: null when the engine is not ready, a client holds it for longer than the
/// wait, or the read fails (the caller then keeps what it read before).
/// </summary>
internal static class BetweenUnits
{
    public static async Task<T?> ReadAsync<T>(SessionServices database, TimeSpan wait, Func<EngineProcess, Task<T?>> read, CancellationToken cancellationToken)
        where T : class
    {
        if (!database.Engine.IsReady)
            return null;
        var owner = new object();
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        waiting.CancelAfter(wait);
        try
        {
            await database.Scheduler.AcquireAsync(owner, waiting.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        try
        {
            return await read(await database.Engine.GetAsync());
        }
        catch (Exception error) when (error is OwnSqlException or TimeoutException or EngineFailedException or System.Text.Json.JsonException)
        {
            return null;
        }
        finally
        {
            database.Scheduler.Release(owner);
        }
    }
}
