using System.Threading.Tasks.Sources;

namespace ZeroPg.Engine.Pooled;

/// <summary>
/// One place in <see cref="BackendPool"/>'s queue of waiters, reused for every wait of its owner (a <see cref="PooledClient"/>
/// keeps one): at 64 clients on 10 backends almost every transaction waits, and a wait then allocates nothing (no task, no list
/// node, no timed cancellation source: the pool's one timer ends waits past the timeout). Completed by whoever takes it out of
/// the queue under the pool's lock: a backend handed over, null (a slot: the waiter logs in a backend of its own), or an error
/// (timed out, cancelled). The waiter's continuation runs synchronously on the completing thread (as a returned backend's next
/// transaction should, with no thread-pool hop). One wait at a time; its fields are the pool's, under its lock.
/// </summary>
internal sealed class BackendWaiter : IValueTaskSource<PooledBackend?>
{
    private ManualResetValueTaskSourceCore<PooledBackend?> _core; // RunContinuationsAsynchronously false: see the summary

    public BackendWaiter() => Node = new LinkedListNode<BackendWaiter>(this);

    /// <summary>The pool it waits in (its connection's end abandons the wait there).</summary>
    public BackendPool? Pool { get; set; }

    /// <summary>The key the waiter wants (pool's lock).</summary>
    public PoolKey Key { get; set; }

    /// <summary>When the wait began (Stopwatch ticks; pool's lock).</summary>
    public long Since { get; set; }

    /// <summary>Its node in the pool's queue: in the queue while <c>Node.List</c> is set.</summary>
    public LinkedListNode<BackendWaiter> Node { get; }

    /// <summary>Cancels the login of a backend the waiter was given a slot for (set while it logs in), so a cancel reaches it too.</summary>
    public CancellationTokenSource? Login { get; set; }

    /// <summary>Starts a wait (the previous one was awaited): its result is the next <see cref="Complete"/> or <see cref="Fail"/>.</summary>
    public ValueTask<PooledBackend?> Start()
    {
        _core.Reset();
        return new ValueTask<PooledBackend?>(this, _core.Version);
    }

    public void Complete(PooledBackend? backend) => _core.SetResult(backend);

    public void Fail(Exception error) => _core.SetException(error);

    PooledBackend? IValueTaskSource<PooledBackend?>.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<PooledBackend?>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<PooledBackend?>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
