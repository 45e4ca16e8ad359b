using System.Diagnostics;
using ZeroPg.Protocol;

namespace ZeroPg.Engine.Pooled;

/// <summary>
/// At most <see cref="Size"/> backends of one server, lent to clients for a transaction (<see cref="PooledClient"/>). Idle
/// backends are kept per <see cref="PoolKey"/> and the last one returned is lent first; when every backend is lent, clients wait
/// in one FIFO queue. A returned backend goes to the first waiter of its key; when the first waiter wants another key, the
/// backend is closed and its slot goes to that waiter, which logs in one of its own. Shared by every connection: its lock owns
/// its state; logins and closes run outside it.
/// </summary>
internal sealed class BackendPool(PoolTarget target, int size, TimeSpan waitTimeout) : IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly Dictionary<PoolKey, Stack<PooledBackend>> _idle = [];
    private readonly LinkedList<Waiter> _waiters = new();
    private int _open; // backends logged in or logging in: never more than size
    private int _idleCount;
    private bool _disposed;
    private long _waits;
    private long _waitTicks;
    private long _longestWaitTicks;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<PoolKey, List<(string Name, string Value)>> _greetings = new();

    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, int> _lentTo = new();

    public PoolTarget Target => target;

    /// <summary>The backend <paramref name="backend"/> now runs the statements of ZeroPg's client <paramref name="clientId"/>.</summary>
    public void MarkLent(PooledBackend backend, int clientId) => _lentTo[backend.ProcessId] = clientId;

    /// <summary>
    /// ZeroPg's process id of the client the backend <paramref name="backendPid"/> was last lent to (a NOTIFY's sender, as its
    /// listener is told), or the backend's own when the pool does not know it.
    /// </summary>
    public int ClientOf(int backendPid) => _lentTo.TryGetValue(backendPid, out var client) ? client : backendPid;

    /// <summary>What the first backend of <paramref name="key"/> reported at login (ParameterStatus), for the greeting of its clients.</summary>
    public List<(string Name, string Value)>? Greeting(PoolKey key) => _greetings.TryGetValue(key, out var parameters) ? parameters : null;

    public int Size => size;

    public PoolCounts Counts()
    {
        lock (_gate)
            return new PoolCounts(size, _open, _idleCount, _waiters.Count, _waits, Stopwatch.GetElapsedTime(0, _waitTicks), Stopwatch.GetElapsedTime(0, _longestWaitTicks),
                _waiters.First is { } first ? Stopwatch.GetElapsedTime(first.Value.Since) : TimeSpan.Zero);
    }

    /// <summary>Every key the pool has logged in a backend for (or has waiters for), with its idle backends and waiting clients, for SHOW POOLS.</summary>
    public List<(PoolKey Key, int Idle, int Waiting)> Keys()
    {
        lock (_gate)
        {
            var keys = _greetings.Keys.Concat(_waiters.Select(w => w.Key)).Distinct().OrderBy(k => k.Database, StringComparer.Ordinal).ThenBy(k => k.User, StringComparer.Ordinal);
            return keys.Select(k => (k, _idle.TryGetValue(k, out var idle) ? idle.Count : 0, _waiters.Count(w => w.Key == k))).ToList();
        }
    }

    /// <summary>
    /// A backend of <paramref name="key"/> for the caller alone until it calls <see cref="Return"/> or <see cref="Discard"/>.
    /// Waits past the pool's timeout and a cancel of the wait fail with 57014 (53300 would make drivers such as Npgsql drop the connection); a backend that cannot log in with its FATAL.
    /// </summary>
    public async Task<PooledBackend> AcquireAsync(PoolKey key, CancellationToken cancellationToken)
    {
        Waiter? waiter = null;
        PooledBackend? spare = null;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (TakeIdle(key) is { } idle)
                return idle;
            if (_open < size)
                _open++;
            else if (TakeAnyIdle() is { } other)
                spare = other; // the slot of an idle backend of another key: close it, log in one of ours
            else
            {
                waiter = new Waiter(key, Stopwatch.GetTimestamp());
                waiter.Node = _waiters.AddLast(waiter);
            }
        }
        if (spare is not null)
            await CloseAsync(spare);
        if (waiter is not null)
        {
            var lent = await WaitAsync(waiter, cancellationToken);
            if (lent is not null)
                return lent;
        }
        return await LogInAsync(key, cancellationToken);
    }

    /// <summary>
    /// An idle backend of <paramref name="key"/> without waiting, or false. The common case of a lending: the caller then needs
    /// no cancellation of a wait (<see cref="PooledClient"/> makes one only when this fails).
    /// </summary>
    public bool TryTakeIdle(PoolKey key, out PooledBackend backend)
    {
        lock (_gate)
        {
            if (!_disposed && TakeIdle(key) is { } idle)
            {
                backend = idle;
                return true;
            }
        }
        backend = null!;
        return false;
    }

    private async Task<PooledBackend?> WaitAsync(Waiter waiter, CancellationToken cancellationToken)
    {
        using var timeout = waitTimeout > TimeSpan.Zero ? new CancellationTokenSource(waitTimeout) : null;
        using var either = timeout is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var token = either?.Token ?? cancellationToken;
        await using var registration = token.Register(() => Abandon(waiter));
        try
        {
            return await waiter.Completion.Task;
        }
        catch (OperationCanceledException) when (timeout?.IsCancellationRequested == true && !cancellationToken.IsCancellationRequested)
        {
            throw new PgErrorException(PgError.Error(SqlState.QueryCanceled,
                $"canceling statement: waited {waitTimeout.TotalSeconds:0.#} s for one of the pool's {size} backends",
                "Every pooled backend is in another client's transaction: shorten transactions, raise --pool (up to the server's max_connections) or --pool-timeout."));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested || token.IsCancellationRequested)
        {
            throw new PgErrorException(PgError.Error(SqlState.QueryCanceled, "canceling statement due to user request",
                "The statement was still waiting for a pooled backend and did not run."));
        }
        finally
        {
            lock (_gate)
                RecordWait(waiter);
        }
    }

    private void RecordWait(Waiter waiter)
    {
        var ticks = Stopwatch.GetTimestamp() - waiter.Since;
        _waits++;
        _waitTicks += ticks;
        _longestWaitTicks = Math.Max(_longestWaitTicks, ticks);
    }

    private async Task<PooledBackend> LogInAsync(PoolKey key, CancellationToken cancellationToken)
    {
        try
        {
            var backend = await PooledBackend.ConnectAsync(target, key, cancellationToken);
            _greetings.TryAdd(key, backend.Parameters);
            return backend;
        }
        catch
        {
            ReleaseSlot();
            throw;
        }
    }

    /// <summary>The caller's backend is idle (no transaction, nothing of a client's left in it): the next client may have it.</summary>
    public void Return(PooledBackend backend)
    {
        if (backend.Broken)
        {
            Discard(backend);
            return;
        }
        Waiter? next = null;
        var close = false;
        lock (_gate)
        {
            if (_disposed)
                close = true;
            else if (FirstWaiter(backend.Key) is { } same)
                next = same;
            else if (_waiters.First is { } other)
            {
                next = other.Value; // another key waits: this backend's slot is its
                Remove(next);
                close = true;
            }
            else
            {
                if (!_idle.TryGetValue(backend.Key, out var stack))
                    _idle[backend.Key] = stack = new Stack<PooledBackend>();
                stack.Push(backend);
                _idleCount++;
                return;
            }
        }
        if (close)
        {
            _ = CloseAsync(backend);
            if (next is null)
                ReleaseSlot();
            else
                next.Completion.TrySetResult(null);
            return;
        }
        next!.Completion.TrySetResult(backend);
    }

    /// <summary>The backend is closed (it died, or a client left it in a state ZeroPg cannot reset): its slot goes to the next waiter.</summary>
    public void Discard(PooledBackend backend)
    {
        backend.Broken = true;
        _lentTo.TryRemove(backend.ProcessId, out _);
        _ = CloseAsync(backend);
        ReleaseSlot();
    }

    private void ReleaseSlot()
    {
        Waiter? next;
        lock (_gate)
        {
            next = _waiters.First?.Value;
            if (next is null)
            {
                _open--;
                return;
            }
            Remove(next);
        }
        next.Completion.TrySetResult(null); // the slot stays counted: the waiter logs in a backend
    }

    private Waiter? FirstWaiter(PoolKey key)
    {
        for (var node = _waiters.First; node is not null; node = node.Next)
        {
            if (node.Value.Key == key)
            {
                Remove(node.Value);
                return node.Value;
            }
        }
        return null;
    }

    private void Remove(Waiter waiter)
    {
        if (waiter.Node is null)
            return;
        _waiters.Remove(waiter.Node);
        waiter.Node = null;
    }

    private PooledBackend? TakeIdle(PoolKey key)
    {
        if (!_idle.TryGetValue(key, out var stack) || stack.Count == 0)
            return null;
        _idleCount--;
        return stack.Pop();
    }

    private PooledBackend? TakeAnyIdle()
    {
        foreach (var stack in _idle.Values)
        {
            if (stack.Count > 0)
            {
                _idleCount--;
                return stack.Pop();
            }
        }
        return null;
    }

    private void Abandon(Waiter waiter)
    {
        lock (_gate)
        {
            if (waiter.Node is null)
                return; // already given a backend or a slot
            Remove(waiter);
        }
        // Off the canceller's thread: the waiter's continuations run synchronously (Waiter.Completion), and here they would run
        // inside CancellationTokenSource.Cancel, which disposes the very source being cancelled (PooledClient's wait).
        ThreadPool.UnsafeQueueUserWorkItem(static w => w.Completion.TrySetCanceled(), waiter, preferLocal: false);
    }

    private static async Task CloseAsync(PooledBackend backend)
    {
        try
        {
            await backend.DisposeAsync();
        }
        catch (Exception error) when (error is IOException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<PooledBackend> idle;
        lock (_gate)
        {
            _disposed = true;
            idle = _idle.Values.SelectMany(s => s).ToList();
            _idle.Clear();
            _idleCount = 0;
        }
        foreach (var backend in idle)
            await CloseAsync(backend);
    }

    private sealed class Waiter(PoolKey key, long since)
    {
        public PoolKey Key { get; } = key;
        public long Since { get; } = since;
        public LinkedListNode<Waiter>? Node { get; set; }
        /// <summary>
        /// A backend handed over, or null: a slot, for the waiter to log in a backend of its own. Its continuations run
        /// synchronously, on the thread that returned the backend (a forwarder, after the client was answered and outside every
        /// lock): the waiter's statement goes to the backend at once, with no thread-pool wake-up between two transactions.
        /// </summary>
        public TaskCompletionSource<PooledBackend?> Completion { get; } = new();
    }
}

/// <summary>The pool's state for /metrics and SHOW POOLS: backends open (lent or idle), clients waiting, waits so far.</summary>
internal readonly record struct PoolCounts(int Size, int Open, int Idle, int Waiting, long Waits, TimeSpan WaitTotal, TimeSpan LongestWait, TimeSpan OldestWaiting)
{
    public int Busy => Open - Idle;
}
