namespace ZeroPg.Engine.Pooled;

/// <summary>
/// The lock of one <see cref="PooledClient"/>, held across awaits (as a SemaphoreSlim(1, 1) would be), whose next waiter runs
/// on the releasing thread. A SemaphoreSlim hands each waiter to the thread pool: the forwarder that reads a reply while the
/// client's loop still holds the gate (the loop releases it just after writing the statement) then cost a pool wake-up and
/// its spinning, on a share of all transactions. Here the waiter (typically that forwarder, returning the backend) goes on
/// inside <see cref="Release"/>, after the releaser's critical section. Shared by the client's loop, its forwarder and a
/// canceller; <see cref="_lock"/> owns the fields.
/// </summary>
internal sealed class ClientGate
{
    private readonly object _lock = new();
    private readonly Queue<TaskCompletionSource> _waiters = new();
    private bool _held;

    /// <summary>Holds the gate once this completes; a cancelled wait leaves it to the others.</summary>
    public Task WaitAsync(CancellationToken cancellationToken = default)
    {
        TaskCompletionSource waiter;
        lock (_lock)
        {
            if (!_held)
            {
                _held = true;
                return Task.CompletedTask;
            }
            waiter = new TaskCompletionSource(); // continuations run synchronously, in Release
            _waiters.Enqueue(waiter);
        }
        if (cancellationToken.CanBeCanceled)
        {
            // A cancelled waiter stays queued, completed: Release skips it.
            var registration = cancellationToken.UnsafeRegister(static w => ((TaskCompletionSource)w!).TrySetCanceled(), waiter);
            waiter.Task.ContinueWith(static (_, r) => ((CancellationTokenRegistration)r!).Dispose(), registration, CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        return waiter.Task;
    }

    /// <summary>Holds the gate when it is free now; false (and nothing held) when another holds it.</summary>
    public bool TryEnter()
    {
        lock (_lock)
        {
            if (_held)
                return false;
            _held = true;
            return true;
        }
    }

    /// <summary>Gives the gate to the first waiter still waiting, which runs now on this thread; or frees it.</summary>
    public void Release()
    {
        while (true)
        {
            TaskCompletionSource? next;
            lock (_lock)
            {
                if (!_waiters.TryDequeue(out next))
                {
                    _held = false;
                    return;
                }
            }
            if (next.TrySetResult())
                return; // the gate is now the waiter's (it stays held)
        }
    }
}
