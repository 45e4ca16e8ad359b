using Microsoft.Extensions.Logging;
using ZeroPg.Engine;

namespace ZeroPg.Storage.Snapshots;

/// <summary>
/// An engine started in the background from a snapshot's tar, waiting to take over at the next restore: the restore then
/// costs an engine swap (tens of ms) instead of an engine start (1-3 s). It costs one idle engine's memory while it waits.
/// Owned by one snapshot until a restore takes it (<see cref="TakeAsync"/>), then by that restore.
/// </summary>
internal sealed class SnapshotSpare : IAsyncDisposable
{
    private readonly Task<(EngineProcess Engine, EngineStartupInfo Info)> _start;
    private int _taken;

    private SnapshotSpare(Task<(EngineProcess, EngineStartupInfo)> start, IReadOnlyList<string> extensions)
    {
        _start = start;
        Extensions = extensions;
    }

    /// <summary>The extensions the engine was started with.</summary>
    public IReadOnlyList<string> Extensions { get; }

    /// <summary>Starts the engine and runs <paramref name="prepare"/> on it (<see cref="EngineSupervisor.PrepareTakeOverAsync"/>).</summary>
    public static SnapshotSpare Start(EngineLaunchOptions launch, IReadOnlyList<string> extensions, Func<EngineProcess, Task> prepare, ILogger logger, TimeSpan timeout)
        => new(StartAsync(launch, prepare, logger, timeout, CancellationToken.None), extensions);

    /// <summary>An engine started from the launch and prepared; killed when the preparation fails.</summary>
    public static async Task<(EngineProcess Engine, EngineStartupInfo Info)> StartAsync(EngineLaunchOptions launch, Func<EngineProcess, Task> prepare, ILogger logger, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = await EngineProcess.StartAsync(launch, logger, timeout, cancellationToken);
        try
        {
            await prepare(started.Engine);
            return started;
        }
        catch
        {
            await started.Engine.DisposeAsync();
            throw;
        }
    }

    /// <summary>The started engine, once its start is over (null when it failed or died meanwhile: the caller starts one itself).</summary>
    public async Task<(EngineProcess Engine, EngineStartupInfo Info)?> TakeAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _taken, 1) == 1)
            throw new InvalidOperationException("the spare engine was taken already");
        try
        {
            var started = await _start.WaitAsync(cancellationToken);
            if (!started.Engine.IsFailed)
                return started;
            await started.Engine.DisposeAsync();
            return null;
        }
        catch (OperationCanceledException)
        {
            _ = DisposeStartedAsync(); // nobody else will close it
            throw;
        }
        catch (Exception)
        {
            return null; // its start or preparation failed (and closed it): the restore starts an engine itself, and reports why that fails
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _taken, 1) == 0)
            await DisposeStartedAsync();
    }

    private async Task DisposeStartedAsync()
    {
        try
        {
            await (await _start).Engine.DisposeAsync();
        }
        catch (Exception)
        {
            // A spare that failed to start has nothing to close.
        }
    }
}
