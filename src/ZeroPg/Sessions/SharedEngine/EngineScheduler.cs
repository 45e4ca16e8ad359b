namespace ZeroPg.Sessions;

/// <summary>
/// Decides which client session the one engine session works for. A session holds the engine for a
/// unit of work, and keeps it while its transaction is open; the others wait. Who waits is served in order of the engine
/// time each has had (start-time fair queueing, <see cref="EngineShares"/>): a client that has just held the engine long
/// (a big COPY, a transaction idle between its statements, a hostile client that opens a sequence and sleeps) goes behind
/// the clients that asked for little, so one client's long holds cost the others one wait, not one per turn; among
/// alike clients the order is their arrival. A client that has waited <see cref="Overdue"/> goes first whatever its tag. Owners are compared by reference (a session). While a <see cref="Gate"/> is
/// set (an exported snapshot waiting for its importers), the first waiter it admits goes first and the others keep their
/// place. An owner whose unit is written to the engine and leaves the engine session as it found it hands the engine over
/// (<see cref="HandOver"/>): to the first waiter now, or to the next session that asks, at once, while the owner waits for
/// its reply. Shared by all sessions of the engine: its lock owns its state.
/// </summary>
internal sealed class EngineScheduler
{
    /// <summary>
    /// How long after a hand-over the next session may still take the engine at once. A unit still running later is not a short
    /// one: who comes then waits in the queue, where its lock_timeout, statement_timeout, the queue NOTICE, the queue-wait
    /// timeout and pg_stat_activity see its wait, instead of behind that unit in the engine host.
    /// </summary>
    internal static readonly TimeSpan HandOverWindow = TimeSpan.FromMilliseconds(1);

    private readonly object _gate = new();
    private readonly LinkedList<Waiter> _waiters = new();
    private object? _owner;
    private bool _handsOver; // the owner's unit is queued in the engine: the next session to ask takes the engine at once
    private long _handedOverAt; // clock timestamp of that hand-over
    private IEngineGate? _admission;
    private long _grantedAt; // clock timestamp of the owner's grant
    private readonly EngineShares _shares = new();
    private EngineShares.Share? _ownerShare;
    private readonly Func<long> _clock;

    public EngineScheduler() : this(System.Diagnostics.Stopwatch.GetTimestamp)
    {
    }

    /// <summary>With the clock tests set (Stopwatch timestamps).</summary>
    internal EngineScheduler(Func<long> clock) => _clock = clock;

    /// <summary>Told of an owner that held the engine at least <see cref="EngineHoldLog.Threshold"/> while others waited (after the lock).</summary>
    public EngineHoldLog? HoldLog { get; set; }

    /// <summary>Told of each turn that ended while others waited, and of a waiter granted after <see cref="EngineHoldLog.Threshold"/> or more (after the lock).</summary>
    public EngineWaitLog? WaitLog { get; set; }

    /// <summary>The session the engine currently works for, if any.</summary>
    public object? Owner
    {
        get { lock (_gate) return _owner; }
    }

    public int QueueLength
    {
        get { lock (_gate) return _waiters.Count; }
    }

    /// <summary>How long the longest-waiting client has waited for the engine (zero when nobody waits).</summary>
    public TimeSpan LongestWait
    {
        get
        {
            lock (_gate)
            {
                long oldest = long.MaxValue;
                for (var node = _waiters.First; node is not null; node = node.Next)
                    oldest = Math.Min(oldest, node.Value.Since);
                return oldest == long.MaxValue ? TimeSpan.Zero : System.Diagnostics.Stopwatch.GetElapsedTime(oldest, _clock());
            }
        }
    }

    /// <summary>The next session to ask would take the engine at once, behind the owner's handed-over unit (<see cref="HandOver"/>).</summary>
    public bool TakesOverNow
    {
        get { lock (_gate) return _owner is not null && TakesOver(); }
    }

    /// <summary>Who may take the engine, when not everyone may (null: everyone in turn). Call <see cref="Kick"/> when its answer may have changed.</summary>
    public IEngineGate? Gate
    {
        get { lock (_gate) return _admission; }
        set
        {
            lock (_gate)
            {
                _admission = value;
                _handsOver = false; // behind a gate the engine goes only to admitted waiters, on release
            }
            Kick();
        }
    }

    /// <summary>Waits until <paramref name="session"/> owns the engine. Returns at once if it already does.</summary>
    public ValueTask AcquireAsync(object session, CancellationToken cancellationToken, EngineAccess access = EngineAccess.Ordinary)
        => AcquireAsync(session, first: false, cancellationToken, access);

    /// <summary>
    /// Waits only for the current owner, ahead of every queued session: for the server's own exclusive work on the engine
    /// (Storage.Snapshots.EngineHold), so the statements queued meanwhile run after it, on what it leaves.
    /// </summary>
    public ValueTask AcquireFirstAsync(object owner, CancellationToken cancellationToken) => AcquireAsync(owner, first: true, cancellationToken, EngineAccess.Ordinary);

    /// <summary>Takes the engine for <paramref name="owner"/> only if nobody holds it or waits for it and the gate lets anyone in: the server's housekeeping, which must never make a client wait.</summary>
    public bool TryAcquire(object owner)
    {
        lock (_gate)
        {
            if (_owner is not null || _waiters.Count > 0 || _admission?.Admits(owner, EngineAccess.Ordinary) == false)
                return false;
            Grant(owner);
            return true;
        }
    }

    private ValueTask AcquireAsync(object session, bool first, CancellationToken cancellationToken, EngineAccess access)
    {
        Waiter waiter;
        lock (_gate)
        {
            if (_owner == session)
            {
                _handsOver = false; // it uses the engine again
                return ValueTask.CompletedTask;
            }
            // A free engine has no admitted waiter (it would have been granted): an admitted newcomer goes at once. So does one
            // asking an owner that hands over: its unit goes to the engine host behind the owner's, with no thread hop between.
            if ((_owner is null || TakesOver()) && (_admission is null ? _waiters.Count == 0 : _admission.Admits(session, access)))
            {
                Grant(session);
                return ValueTask.CompletedTask;
            }
            waiter = new Waiter(session, access, first ? long.MinValue : _shares.Tag(session), _clock());
            waiter.Node = Enqueue(waiter);
        }
        if (cancellationToken.CanBeCanceled)
            waiter.Registration = cancellationToken.Register(() => Abandon(waiter, cancellationToken));
        return new ValueTask(waiter.Completion.Task);
    }

    /// <summary>Gives the engine up; the next admitted waiter gets it.</summary>
    public void Release(object session)
    {
        Waiter? next;
        TimeSpan held;
        int waiting;
        long granted, now;
        lock (_gate)
        {
            if (_owner != session)
                return;
            now = _clock();
            granted = _grantedAt;
            held = System.Diagnostics.Stopwatch.GetElapsedTime(_grantedAt, now);
            if (_ownerShare is { } share)
                EngineShares.Used(share, now - _grantedAt);
            _ownerShare = null;
            waiting = _waiters.Count;
            _owner = null;
            _handsOver = false;
            _admission?.Released(session);
            next = GrantNext();
        }
        if (waiting > 0)
        {
            if (held >= EngineHoldLog.Threshold)
                HoldLog?.Held(session, held, waiting);
            WaitLog?.TurnEnded(session, granted, now);
        }
        Granted(next, now);
        Complete(next);
    }

    /// <summary>
    /// The owner's unit is written to the engine and leaves the engine session as it found it (pipelining): the engine goes to the
    /// first admitted waiter now, or to the next session that asks; until then the owner keeps it (a cancel may still restart the
    /// engine for it, and it needs no new grant for a retry or a read-back).
    /// </summary>
    public void HandOver(object session)
    {
        lock (_gate)
        {
            if (_owner != session)
                return;
            if (_waiters.Count == 0)
            {
                _handsOver = _admission is null; // behind a gate only a waiter already queued takes it (it may be the one admitted)
                _handedOverAt = _clock();
                return;
            }
        }
        Release(session);
    }

    /// <summary>The reply of the unit <paramref name="session"/> handed over came back: if nobody took the engine meanwhile, it keeps it as before.</summary>
    public void EndHandOver(object session)
    {
        lock (_gate)
        {
            if (_owner == session)
                _handsOver = false;
        }
    }

    /// <summary>The gate's answer may have changed: a free engine goes to the first waiter it now admits.</summary>
    public void Kick()
    {
        Waiter? next;
        lock (_gate)
            next = _owner is null ? GrantNext() : null;
        Granted(next, _clock());
        Complete(next);
    }

    /// <summary>Behind every waiter with a tag as low or lower (arrival order among equals), ahead of the rest.</summary>
    private LinkedListNode<Waiter> Enqueue(Waiter waiter)
    {
        for (var node = _waiters.Last; node is not null; node = node.Previous)
        {
            if (node.Value.Tag <= waiter.Tag)
                return _waiters.AddAfter(node, waiter);
        }
        return _waiters.AddFirst(waiter);
    }

    /// <summary>A waiter granted after a wait of <see cref="EngineHoldLog.Threshold"/> or more says behind what (after the lock).</summary>
    private void Granted(Waiter? next, long now)
    {
        if (next is not null && WaitLog is { } log && System.Diagnostics.Stopwatch.GetElapsedTime(next.Since, now) >= EngineHoldLog.Threshold)
            log.Waited(next.Session, next.Since, now);
    }

    private bool TakesOver() => _handsOver && System.Diagnostics.Stopwatch.GetElapsedTime(_handedOverAt, _clock()) < HandOverWindow;

    /// <summary>
    /// The first admitted waiter by tag; but a waiter that has waited <see cref="Overdue"/> goes first whatever its tag (the
    /// longest waiting of them), unless the server's own work waits first (<see cref="AcquireFirstAsync"/>).
    /// </summary>
    private Waiter? GrantNext()
    {
        LinkedListNode<Waiter>? first = null, overdue = null;
        var now = _clock();
        for (var node = _waiters.First; node is not null; node = node.Next)
        {
            var waiter = node.Value;
            if (_admission is not null && !_admission.Admits(waiter.Session, waiter.Access))
                continue;
            first ??= node;
            if (waiter.Tag == long.MinValue)
                break;
            if (System.Diagnostics.Stopwatch.GetElapsedTime(waiter.Since, now) >= Overdue && (overdue is null || waiter.Since < overdue.Value.Since))
                overdue = node;
        }
        var chosen = first is not null && first.Value.Tag == long.MinValue ? first : overdue ?? first;
        if (chosen is null)
            return null;
        _waiters.Remove(chosen);
        chosen.Value.Node = null;
        Grant(chosen.Value.Session);
        return chosen.Value;
    }

    /// <summary>
    /// How long a tag may keep a client waiting. Tags order the queue by the engine time each client has had, so a client that
    /// held the engine goes behind those that asked for little; but a client connecting anew asks with no history at the
    /// clock, and the clock moves only as the engine serves tags ahead of it: a stream of new connections, each taking a turn
    /// or two, kept a client whose last turn was 100 ms waiting 5.9 s behind 63 turns (issue 59's fuzzer). Past this wait a
    /// client goes first (longest waiting first), so a debt costs a client at most this much and a stream of newcomers
    /// cannot starve it; shorter waits keep the tags' order.
    /// </summary>
    internal static readonly TimeSpan Overdue = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// The waiter granted the engine goes on on this thread, inline: its unit is written to the engine host before the thread that
    /// gave the engine up does anything else, with no thread-pool worker woken in between (TPC-B with eight clients hands the engine
    /// on once per transaction). A chain of hand-overs (each grantee's unit pipelined, handing over in turn) nests one grant per
    /// link, so past a few levels the next grant goes through the pool instead, and the stack stays short.
    /// </summary>
    private static void Complete(Waiter? next)
    {
        if (next is null)
            return;
        next.Registration.Dispose();
        if (t_inlineGrants >= MaxInlineGrants)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static waiter => waiter.Completion.TrySetResult(), next, preferLocal: false);
            return;
        }
        t_inlineGrants++;
        try
        {
            next.Completion.TrySetResult();
        }
        finally
        {
            t_inlineGrants--;
        }
    }

    /// <summary>
    /// Eight clients queued behind each other chain up to seven grants: at 4, select-only with eight clients sent a grant through the
    /// pool about every cycle, and the woken worker spun ~10 % of the server's CPU away (bench/findings/round-trips.md).
    /// </summary>
    private const int MaxInlineGrants = 16;

    [ThreadStatic]
    private static int t_inlineGrants;

    private void Grant(object session)
    {
        _owner = session;
        _handsOver = false;
        _grantedAt = _clock();
        _ownerShare = _shares.Started(session);
    }

    private void Abandon(Waiter waiter, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (waiter.Node is null)
                return; // already granted
            _waiters.Remove(waiter.Node);
            waiter.Node = null;
        }
        ThreadPool.UnsafeQueueUserWorkItem(static state => state.Waiter.Completion.TrySetCanceled(state.Token), (Waiter: waiter, Token: cancellationToken), preferLocal: false);
    }

    private sealed class Waiter(object session, EngineAccess access, long tag, long since)
    {
        public long Since { get; } = since; // clock timestamp of its asking
        public object Session { get; } = session;
        public EngineAccess Access { get; } = access;
        public long Tag { get; } = tag; // its place in the queue (EngineShares), fixed when it asks
        public TaskCompletionSource Completion { get; } = new(); // completed inline by a grant (see Complete), through the pool by a cancel
        public LinkedListNode<Waiter>? Node { get; set; }
        public CancellationTokenRegistration Registration { get; set; }
    }
}
