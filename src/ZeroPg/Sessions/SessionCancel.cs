using ZeroPg.Engine;
using ZeroPg.Protocol;

namespace ZeroPg.Sessions;

/// <summary>
/// A CancelRequest for one session. A unit still waiting for the engine (or for an advisory lock) is
/// dropped with 57014. One already running can only be stopped by killing the engine (data directories
/// only); the client then gets 57014, not 57P01, and on memory:// a WARNING before the unit's
/// ReadyForQuery. Thread: <see cref="Request"/> runs on the connection that sent the CancelRequest,
/// <see cref="TakeWarning"/> on the engine reader thread, the rest on the session.
/// </summary>
internal sealed class SessionCancel
{
    private CancellationTokenSource _wait = new();
    private int _warningPending;
    private volatile bool _inEngineCall;
    private volatile bool _killedEngine;

    public SessionCancel(CancellationToken connectionClosed)
    {
        // A client that leaves while queued for the engine stops waiting at once.
        connectionClosed.Register(() =>
        {
            try
            {
                _wait.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // Replaced meanwhile; the new one is checked on the next wait.
            }
        });
    }

    /// <summary>Cancels a wait for the engine or for an advisory lock.</summary>
    public CancellationToken WaitToken => _wait.Token;

    public bool IsRequested => _wait.IsCancellationRequested;

    /// <summary>The engine was killed to stop this client's running query.</summary>
    public bool KilledEngine => _killedEngine;

    /// <summary>Stops the session's own wait (its queue-wait timeout ran out).</summary>
    public void CancelWait() => _wait.Cancel();

    /// <summary>Forgets a cancel that was handled, or that came while nothing of the client waited or ran (Postgres ignores it).</summary>
    public void Reset()
    {
        var old = _wait;
        _wait = new CancellationTokenSource();
        old.Dispose();
    }

    /// <summary>The session is in an engine call until the returned scope is disposed.</summary>
    public EngineCallScope EnterEngineCall()
    {
        _inEngineCall = true;
        return new EngineCallScope(this);
    }

    /// <summary>Canceller's thread: a CancelRequest named this session.</summary>
    public void Request(bool holdsEngine, EngineSupervisor engine)
    {
        // A pipelined unit (running, engine already handed on) is killed only when nothing else is queued in the engine behind it.
        if (!holdsEngine && !_inEngineCall)
            _wait.Cancel();
        else if (engine.TryCancelRunningQuery(onlyIfSoleCall: !holdsEngine))
            _killedEngine = true;
        else if (_inEngineCall)
            Interlocked.Exchange(ref _warningPending, 1);
    }

    /// <summary>Reader thread: a cancel that could not stop the running query is answered with a WARNING before the unit's ReadyForQuery.</summary>
    public PgError? TakeWarning() => Interlocked.Exchange(ref _warningPending, 0) == 1
        ? PgError.Warning(SqlState.QueryCanceled, "the running query cannot be cancelled",
            "PGlite cannot interrupt a running query; ZeroPg stops one by restarting the engine, which a memory:// database would not survive. Use a data directory (--db DIR) to make queries cancellable.")
        : null;

    /// <summary>The error a unit dropped before it reached the engine is answered with.</summary>
    public static PgErrorException Dropped(string detail)
        => new(PgError.Error(SqlState.QueryCanceled, "canceling statement due to user request", detail));

    public readonly struct EngineCallScope(SessionCancel cancel) : IDisposable
    {
        public void Dispose() => cancel._inEngineCall = false;
    }
}
