using ZeroPg.Engine;
using ZeroPg.Protocol;

namespace ZeroPg.Sessions;

/// <summary>
/// The death of the engine a session used, seen while the session waits idle for its client. A client idle in a transaction
/// block holds the engine: its transaction died with it, and the client must not keep the new engine from everyone until its
/// next statement or its idle timeout (ten minutes): the session is woken and ends with the FATAL 57P01 of a lost engine
/// (<see cref="EngineRestart.LostError"/>), as a Postgres backend's clients are ended when the backend crashes. Any other idle
/// session is woken too, and ends at once with 57P01 when its session cannot be put back whole in the new engine (temp tables,
/// an in-memory database's data: <see cref="EngineRestart.OnEngineDied"/>); else it goes on waiting. A call in flight learns of
/// the death from the call itself, and the client of a call the server killed the engine to stop stays (<see cref="EngineProcess.WasKilledToCancel"/>).
/// A replication connection is not woken unless it holds the engine (wakesIdle false): its stream reads the same input, and a
/// woken read there ends the stream; it learns of a lost session at its next engine grant.
/// Threads: <see cref="BeforeIdleRead"/> and <see cref="ThrowIfLost"/> on the session's; the death's continuation on the pool's.
/// </summary>
internal sealed class HeldEngineWatch(EngineSupervisor supervisor, EngineLease lease, EngineRestart restart, Action wake, Func<bool> wakesIdle) : IDisposable
{
    private EngineProcess? _watched;
    private CancellationTokenRegistration _registration; // undone when the session ends: an engine outlives thousands of sessions
    private volatile EngineProcess? _lost;
    private volatile int _diedGeneration;

    /// <summary>Before an idle read: the running engine is watched (once per engine and session).</summary>
    public void BeforeIdleRead()
    {
        if (supervisor.Running is not { IsFailed: false } engine || ReferenceEquals(engine, _watched))
            return;
        _registration.Dispose();
        _watched = engine;
        _registration = Watch(engine, supervisor.Generation);
    }

    // Apart from BeforeIdleRead, which runs before every read: the lambda's captured variables cost an allocation at the
    // entry of the method that declares them.
    private CancellationTokenRegistration Watch(EngineProcess engine, int generation)
    {
        return engine.ExitedToken.UnsafeRegister(_ =>
        {
            // A newer generation means this engine was replaced (a snapshot's restore swaps engines, then closes the old one):
            // the engine the session holds now is another, and lives; the session learns of the swap at its next grant. A death
            // bumps the generation only once its replacement has started, long after this runs.
            if (supervisor.Generation != generation)
                return;
            if (lease.IsHeld)
            {
                if (engine.WasKilledToCancel)
                    return;
                _lost = engine;
            }
            else
            {
                if (!wakesIdle())
                    return;
                _diedGeneration = generation;
            }
            try
            {
                wake();
            }
            catch (Exception error) when (ConnectionErrors.IsDisconnect(error))
            {
                // The session is ending anyway; the engine's death must not fail on it (this runs on the engine's reader).
            }
        }, null);
    }

    /// <summary>After a read: the engine this session held while idle is gone, or the one it used died and its session cannot be put back.</summary>
    public void ThrowIfLost()
    {
        if (_lost is { } engine && lease.IsHeld)
            throw new PgErrorException(restart.LostError(new EngineFailedException(engine.Diagnostics())));
        if (_diedGeneration is var generation and > 0)
        {
            _diedGeneration = 0;
            restart.OnEngineDied(generation);
        }
    }

    public void Dispose() => _registration.Dispose();
}
