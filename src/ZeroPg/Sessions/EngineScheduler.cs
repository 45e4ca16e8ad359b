namespace ZeroPg.Sessions;

/// <summary>
/// Decides which client session the one engine session works for. A session holds the engine for a
/// unit of work, and keeps it while its transaction is open; the others wait in FIFO order. Owners are
/// compared by reference (a session). Shared by all sessions of the engine: its lock owns its state.
/// </summary>
internal sealed class EngineScheduler
{
    private readonly object _gate = new();
    private readonly LinkedList<Waiter> _waiters = new();
    private object? _owner;

    /// <summary>The session the engine currently works for, if any.</summary>
    public object? Owner
    {
        get { lock (_gate) return _owner; }
    }

    public int QueueLength
    {
        get { lock (_gate) return _waiters.Count; }
    }

    /// <summary>Waits until <paramref name="session"/> owns the engine. Returns at once if it already does.</summary>
    public ValueTask AcquireAsync(object session, CancellationToken cancellationToken) => AcquireAsync(session, first: false, cancellationToken);

    /// <summary>
    /// Waits only for the current owner, ahead of every queued session: for the server's own exclusive work on the engine
    /// (Storage.Snapshots.EngineHold), so the statements queued meanwhile run after it, on what it leaves.
    /// </summary>
    public ValueTask AcquireFirstAsync(object owner, CancellationToken cancellationToken) => AcquireAsync(owner, first: true, cancellationToken);

    private ValueTask AcquireAsync(object session, bool first, CancellationToken cancellationToken)
    {
        Waiter waiter;
        lock (_gate)
        {
            if (_owner == session)
                return ValueTask.CompletedTask;
            if (_owner is null && _waiters.Count == 0)
            {
                Grant(session);
                return ValueTask.CompletedTask;
            }
            waiter = new Waiter(session);
            waiter.Node = first ? _waiters.AddFirst(waiter) : _waiters.AddLast(waiter);
        }
        if (cancellationToken.CanBeCanceled)
            waiter.Registration = cancellationToken.Register(() => Abandon(waiter, cancellationToken));
        return new ValueTask(waiter.Completion.Task);
    }

    /// <summary>Gives the engine up; the next waiter gets it.</summary>
    public void Release(object session)
    {
        Waiter? next = null;
        lock (_gate)
        {
            if (_owner != session)
                return;
            _owner = null;
            if (_waiters.First is { } first)
            {
                next = first.Value;
                _waiters.RemoveFirst();
                next.Node = null;
                Grant(next.Session);
            }
        }
        if (next is not null)
        {
            next.Registration.Dispose();
            next.Completion.TrySetResult();
        }
    }

    private void Grant(object session)
    {
        _owner = session;
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
        waiter.Completion.TrySetCanceled(cancellationToken);
    }

    private sealed class Waiter(object session)
    {
        public object Session { get; } = session;
        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public LinkedListNode<Waiter>? Node { get; set; }
        public CancellationTokenRegistration Registration { get; set; }
    }
}
