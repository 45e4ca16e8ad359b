using Microsoft.Extensions.Logging;

namespace ZeroPg.Sessions;

/// <summary>
/// The last line against a statement that holds the shared engine forever (an endless loop, a runaway join): four times a
/// second, any client statement whose engine (database) has clients queued that has run longer than
/// <see cref="ZeroPgOptions.EngineWatchdog"/> is cancelled in the engine (<see cref="SessionCancel.TryWatchdogCancel"/>).
/// Thread: its own timer loop; it touches sessions only through their cancel's lock.
/// </summary>
internal sealed partial class EngineWatchdog(SessionRegistry registry, TimeSpan bound, ILogger logger) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    public void Start()
    {
        if (bound > TimeSpan.Zero)
            _loop = Task.Run(LoopAsync);
    }

    private async Task LoopAsync()
    {
        // Four times a second: a departed client's statement is held to SessionCancel.DepartedBound (1 s), not to 2.
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Min(0.25, bound.TotalSeconds / 2)));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                foreach (var session in registry.Sessions)
                {
                    if (session.CancelForWatchdog(bound, out var applied))
                        Log.Cancelled(logger, applied.TotalSeconds, applied < bound ? " (its client had closed its connection)" : "");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null)
            await _loop;
        _stop.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "watchdog: a statement ran in the engine for more than {Seconds} s{Departed} while other clients waited for that engine; cancelled")]
        public static partial void Cancelled(ILogger logger, double seconds, string departed);
    }
}
