using ZeroPg.Engine;
using ZeroPg.Protocol;

namespace ZeroPg.Sessions;

/// <summary>
/// A CancelRequest for one session. A unit still waiting for the engine (or for an advisory lock) is
/// dropped with 57014. One running in the engine is cancelled inside it: the engine host raises
/// Postgres's own interrupt for the session's batch (by its sequence number, so no other client's batch
/// is hit), Postgres answers 57014 and the engine goes on; a query that ignores it is stopped by restarting the
/// engine (<see cref="CancelBound"/>; the client gets 57014 as an ERROR and stays, see <see cref="EngineRestart"/>).
/// When the host cannot cancel inside the engine at all, the engine is killed at once (data directories only)
/// and on memory:// the client gets a WARNING before the unit's ReadyForQuery. Thread: <see cref="Request"/> runs
/// on the connection that sent the CancelRequest, <see cref="TakeWarning"/> on the engine reader thread,
/// the rest on the session; the in-call state is guarded by one lock.
/// </summary>
internal sealed class SessionCancel
{
    private CancellationTokenSource _wait = new();
    private int _warningPending;
    private readonly Lock _gate = new();
    private volatile bool _inEngineCall;
    private EngineProcess? _submittedTo; // the engine and batch of the call under way, once written
    private long _submittedSequence;
    private bool _cancelBeforeSubmit; // a cancel is pending: the client's batches written from now on are cancelled
    private bool _appliedInUnit; // the pending cancel reached a batch of the unit under way
    private bool _inUnit; // the client's messages are being run (from taking them until their replies)
    private bool _callIsClients; // the engine call under way runs the client's statements (not ZeroPg's own SQL)
    private long _submittedAt; // Stopwatch timestamp of the call's submission, for the watchdog
    private bool _watchdogFired; // the watchdog cancelled the call under way
    private int _watchdogWarningPending;
    private double _watchdogSeconds;
    private volatile bool _raisedInEngine; // a cancel was raised in the engine for the call under way
    private bool _connectionGone; // the client's connection ended (FIN or RST) ...
    private bool _terminated; // ... after a Terminate: what it sent before that still runs, as in Postgres

    public SessionCancel(CancellationToken connectionClosed)
    {
        // A client that vanishes (its connection ends without a Terminate) while queued for the engine stops waiting at once;
        // one that vanishes while its query runs has it cancelled (nobody would read the result, and every other client waits
        // for it), as Postgres does with client_connection_check_interval, only at once.
        connectionClosed.Register(() =>
        {
            bool vanished;
            lock (_gate)
            {
                // Never ZeroPg's own SQL: the cleanup's ROLLBACK of a departed client may be running by now. A client's call
                // not yet written (its unit's preamble still runs, or its lease was just granted) is cancelled when it is.
                _connectionGone = true;
                vanished = Vanished;
                if (vanished && _inEngineCall && _callIsClients && _submittedTo is { CancelsInEngine: true } engine)
                    _raisedInEngine |= engine.CancelInEngine(_submittedSequence);
            }
            if (!vanished)
                return; // after its Terminate: its last statements wait for the engine as any other (the watchdog bounds them)
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

    /// <summary>The client's connection ended without a Terminate (under <see cref="_gate"/>).</summary>
    private bool Vanished => _connectionGone && !_terminated;

    /// <summary>The client's connection ended without a Terminate: what it sent and the session has not run yet is dropped.</summary>
    public bool ClientVanished
    {
        get
        {
            lock (_gate)
                return Vanished;
        }
    }

    /// <summary>Where the client's connection stands, for the log line of a long hold (<see cref="EngineHoldLog"/>).</summary>
    public string ConnectionState
    {
        get
        {
            lock (_gate)
                return (_connectionGone, _terminated) switch
                {
                    (false, false) => "connected",
                    (false, true) => "connected after its Terminate",
                    (true, false) => "connection gone",
                    (true, true) => "connection gone after its Terminate",
                };
        }
    }

    /// <summary>The session read the client's Terminate: the statements before it run even if the connection has closed by now.</summary>
    public void ClientTerminated()
    {
        lock (_gate)
            _terminated = true;
    }

    /// <summary>Cancels a wait for the engine or for an advisory lock.</summary>
    public CancellationToken WaitToken => _wait.Token;

    public bool IsRequested => _wait.IsCancellationRequested;

    /// <summary>Stops the session's own wait (its queue-wait timeout ran out).</summary>
    public void CancelWait() => _wait.Cancel();

    /// <summary>Forgets a cancel that was handled, or that came while nothing of the client waited or ran (Postgres ignores it).</summary>
    public void Reset()
    {
        var old = _wait;
        _wait = new CancellationTokenSource();
        old.Dispose();
    }

    /// <summary>
    /// A wait (for the engine, for an advisory lock) was cancelled and the unit is dropped with 57014: the cancel was delivered,
    /// so it cancels nothing after this unit, even when the client's next statement is already read (no idle moment forgets it).
    /// </summary>
    public void DeliveredToWait()
    {
        lock (_gate)
        {
            _appliedInUnit = true;
            if (!_inUnit)
                _cancelBeforeSubmit = false;
        }
        Reset();
    }

    /// <summary>
    /// The session is in an engine call until the returned scope is disposed. Only calls that run the
    /// client's statements are cancelled; ZeroPg's own SQL around them (settings snapshots, temp
    /// discovery) is not, and a cancel that comes meanwhile waits for the client's next statement.
    /// </summary>
    public EngineCallScope EnterEngineCall(bool clientStatements = true)
    {
        lock (_gate)
        {
            _inEngineCall = true;
            _callIsClients = clientStatements;
            _submittedTo = null;
            _raisedInEngine = false;
        }
        return new EngineCallScope(this);
    }

    /// <summary>The session runs a unit of the client's messages until the returned scope is disposed.</summary>
    public UnitScope EnterUnit()
    {
        lock (_gate)
        {
            _inUnit = true;
            _appliedInUnit = false;
        }
        return new UnitScope(this);
    }

    /// <summary>
    /// The session waits for the client's next message: a cancel still pending came while nothing of the
    /// client's ran and none of its statements was waiting, and is forgotten, as Postgres ignores a cancel
    /// while idle. (One that comes while ZeroPg finishes a unit, with the client's next statement already
    /// sent, cancels that statement.)
    /// </summary>
    public void ClientIdle()
    {
        lock (_gate)
            _cancelBeforeSubmit = false;
    }

    /// <summary>
    /// Before the unit waits for the engine: true when a CancelRequest came for it already (it is then
    /// answered 57014 without running); otherwise a cancel from an idle moment is forgotten, as Postgres does.
    /// </summary>
    public bool TakeCancelBeforeEngine()
    {
        lock (_gate)
        {
            // A departed client's unit is dropped too (before, the wait's token that its leaving cancelled was reset here and
            // the unit went on to run: a statement of a client gone for seconds then held every other client).
            var cancelled = (_cancelBeforeSubmit || Vanished) && _inUnit;
            if (cancelled)
                _appliedInUnit = true;
            if (_wait.IsCancellationRequested)
                Reset();
            return cancelled;
        }
    }

    /// <summary>The call's batch was written to <paramref name="engine"/> as batch <paramref name="sequence"/>.</summary>
    public void Submitted(EngineProcess engine, long sequence)
    {
        lock (_gate)
        {
            _submittedTo = engine;
            _submittedSequence = sequence;
            _submittedAt = System.Diagnostics.Stopwatch.GetTimestamp();
            _watchdogFired = false;
            // Every later batch of a cancelled unit is cancelled too: the unit may run as several engine calls
            // (a preamble, a retry) and the cancel is for the client's statement, whichever call runs it.
            if ((_cancelBeforeSubmit || Vanished) && _callIsClients)
            {
                _raisedInEngine |= engine.CancelInEngine(sequence);
                _appliedInUnit = true;
            }
        }
    }

    /// <summary>Canceller's thread: a CancelRequest named this session.</summary>
    public void Request(bool holdsEngine, EngineSupervisor engine)
    {
        lock (_gate)
        {
            if (_inEngineCall && _callIsClients && _submittedTo is { CancelsInEngine: true } submitted)
            {
                _raisedInEngine |= submitted.CancelInEngine(_submittedSequence);
                _cancelBeforeSubmit = _inUnit; // and the unit's later calls
                _appliedInUnit = true;
                return;
            }
            if ((_inEngineCall || _inUnit) && engine.CancelsInEngine)
            {
                _cancelBeforeSubmit = true; // raised once the client's next batch is written, or its unit is dropped before it waits
                _wait.Cancel(); // a unit queued for the engine (or an advisory lock) stops waiting
                return;
            }
        }
        if (engine.CancelsInEngine)
        {
            // Nothing of ours in the engine: stop a wait (for the engine, for an advisory lock); otherwise Postgres ignores it too.
            _wait.Cancel();
            return;
        }
        // A pipelined unit (running, engine already handed on) is killed only when nothing else is queued in the engine behind it.
        if (!holdsEngine && !_inEngineCall)
            _wait.Cancel();
        else if (!engine.TryCancelRunningQuery(onlyIfSoleCall: !holdsEngine) && _inEngineCall)
            Interlocked.Exchange(ref _warningPending, 1);
    }

    /// <summary>
    /// A statement whose client's connection has closed after a Terminate still runs (Postgres runs what came before the
    /// Terminate), but holds the other clients at most this long: as Postgres with <c>client_connection_check_interval</c>,
    /// which ends the statement of a client it finds gone at its next check.
    /// </summary>
    public static readonly TimeSpan DepartedBound = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Watchdog's thread: cancels the client's statement in the engine when its call has run longer than
    /// <paramref name="bound"/> (<see cref="DepartedBound"/> once the client's connection closed) while others wait: queued
    /// for the engine (<paramref name="othersQueued"/>), or with their units written behind it (pipelined). True when it did;
    /// <paramref name="applied"/> is the bound it applied.
    /// </summary>
    public bool TryWatchdogCancel(TimeSpan bound, bool othersQueued, out TimeSpan applied)
    {
        lock (_gate)
        {
            applied = _connectionGone && DepartedBound < bound ? DepartedBound : bound;
            if (!_inEngineCall || !_callIsClients || _watchdogFired || _submittedTo is not { CancelsInEngine: true } engine
                || !(othersQueued || engine.CallsInFlight > 1))
                return false;
            var ran = System.Diagnostics.Stopwatch.GetElapsedTime(_submittedAt);
            if (ran < applied)
                return false;
            _watchdogFired = true;
            _watchdogSeconds = applied.TotalSeconds;
            Interlocked.Exchange(ref _watchdogWarningPending, 1);
            _raisedInEngine |= engine.CancelInEngine(_submittedSequence);
            return true;
        }
    }

    /// <summary>
    /// Reader thread: a cancel was raised in the engine for the client's call under way (a CancelRequest, the watchdog, its
    /// connection closing). A client that then leaves its reply unread is not waited for long (<see cref="ReplyForwarder"/>).
    /// </summary>
    public bool RaisedInEngine => _raisedInEngine;

    /// <summary>Reader thread: a cancel that could not stop the running query is answered with a WARNING before the unit's ReadyForQuery.</summary>
    public PgError? TakeWarning()
    {
        if (Interlocked.Exchange(ref _watchdogWarningPending, 0) == 1)
            return PgError.Warning(SqlState.QueryCanceled,
                $"ZeroPg's watchdog cancelled the statement: it held the shared engine for more than {_watchdogSeconds:0.#} s while other clients waited",
                "Split long work into shorter statements, or raise or turn off the bound (ZeroPgOptions.EngineWatchdog, --engine-watchdog, 0 = off).");
        return Interlocked.Exchange(ref _warningPending, 0) == 1
            ? PgError.Warning(SqlState.QueryCanceled, "the running query cannot be cancelled",
                "PGlite cannot interrupt a running query; ZeroPg stops one by restarting the engine, which a memory:// database would not survive. Use a data directory (--db DIR) to make queries cancellable.")
            : null;
    }

    /// <summary>The error a unit dropped before it reached the engine is answered with.</summary>
    public static PgErrorException Dropped(string detail)
        => new(PgError.Error(SqlState.QueryCanceled, "canceling statement due to user request", detail));

    public readonly struct UnitScope(SessionCancel cancel) : IDisposable
    {
        public void Dispose()
        {
            lock (cancel._gate)
            {
                cancel._inUnit = false;
                if (cancel._appliedInUnit)
                    cancel._cancelBeforeSubmit = false; // delivered to this unit
            }
        }
    }

    public readonly struct EngineCallScope(SessionCancel cancel) : IDisposable
    {
        public void Dispose()
        {
            lock (cancel._gate)
            {
                cancel._inEngineCall = false;
                cancel._submittedTo = null;
            }
        }
    }
}
