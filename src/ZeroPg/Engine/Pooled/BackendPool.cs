using System.Diagnostics;
using System.Runtime.CompilerServices;
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
    private readonly LinkedList<BackendWaiter> _waiters = new(); // in the order the waits began
    private Timer? _sweep; // ends waits past the timeout (EndLongWaits); made at the first wait
    private int _open; // backends logged in or logging in: never more than size
    private int _idleCount;
    private bool _disposed;
    private long _waits;
    private long _waitTicks;
    private long _longestWaitTicks;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<PoolKey, List<(string Name, string Value)>> _greetings = new();

    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, int> _lentTo = new();

    public PoolTarget Target => target;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<PoolKey, PoolAutoPrepare> _autoPrepare = new();

    /// <summary>How many statements auto-prepare keeps on each backend; 0: simple Queries go to backends as they came (--no-auto-prepare).</summary>
    public int AutoPrepareCapacity { get; init; }

    /// <summary>Auto-prepare's knowledge for the backends of <paramref name="key"/>, or null when auto-prepare is off.</summary>
    public PoolAutoPrepare? AutoPrepareFor(PoolKey key) =>
        AutoPrepareCapacity == 0 ? null : _autoPrepare.GetOrAdd(key, static (_, capacity) => new PoolAutoPrepare(capacity), AutoPrepareCapacity);

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
    public async Task<PooledBackend> AcquireAsync(PoolKey key, CancellationToken cancellationToken) => await AcquireAsync(key, new BackendWaiter(), cancellationToken);

    /// <summary>
    /// As <see cref="AcquireAsync(PoolKey, CancellationToken)"/>, waiting (if it must) in <paramref name="waiter"/>, the caller's
    /// own, reused wait after wait; <see cref="Cancel"/> ends that wait.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<PooledBackend> AcquireAsync(PoolKey key, BackendWaiter waiter, CancellationToken cancellationToken)
    {
        PooledBackend? spare = null;
        ValueTask<PooledBackend?>? wait = null;
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
                wait = Queue(key, waiter);
        }
        if (spare is not null)
            await CloseAsync(spare);
        if (wait is { } pending)
        {
            PooledBackend? lent;
            using (AbandonWhenCancelled(waiter, cancellationToken))
                lent = await pending;
            if (lent is not null)
                return lent;
        }
        return await LogInForAsync(key, waiter, cancellationToken);
    }

    /// <summary>
    /// The part of <see cref="AcquireAsync(PoolKey, BackendWaiter, CancellationToken)"/> that needs no await of its own, for a
    /// caller that awaits the wait itself (a pooled client's loop: no async method between it and its waiter): an idle backend of
    /// <paramref name="key"/> (<paramref name="backend"/>), or the caller's place in the queue (<paramref name="wait"/>, to await
    /// inside <see cref="AbandonWhenCancelled"/>; it gives a backend, or null: a slot, <see cref="LogInForAsync"/>). False when
    /// neither (a slot is free, or an idle backend of another key must be closed first): then AcquireAsync.
    /// </summary>
    public bool TryTakeOrQueue(PoolKey key, BackendWaiter waiter, out PooledBackend? backend, out ValueTask<PooledBackend?> wait)
    {
        backend = null;
        wait = default;
        lock (_gate)
        {
            if (_disposed)
                return false; // AcquireAsync throws
            if (TakeIdle(key) is { } idle)
            {
                backend = idle;
                return true;
            }
            if (_open < size || _idleCount > 0)
                return false;
            wait = Queue(key, waiter);
            return true;
        }
    }

    /// <summary>The waiter's wait ends with the token (its connection's end): dispose the registration once the wait is over.</summary>
    public CancellationTokenRegistration AbandonWhenCancelled(BackendWaiter waiter, CancellationToken cancellationToken) =>
        // The connection's token: registering on one source again and again reuses its callback nodes (no allocation per wait).
        cancellationToken.UnsafeRegister(static (w, token) => ((BackendWaiter)w!).Pool!.Abandon((BackendWaiter)w!, new OperationCanceledException(token)), waiter);

    /// <summary>Logs in a backend of <paramref name="key"/> in the slot the waiter's wait ended with (its result was null).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<PooledBackend> LogInForAsync(PoolKey key, BackendWaiter waiter, CancellationToken cancellationToken)
    {
        using var login = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        waiter.Login = login;
        try
        {
            return await LogInAsync(key, login.Token);
        }
        finally
        {
            waiter.Login = null;
        }
    }

    /// <summary>Puts the waiter at the end of the queue (under the lock); the pool's timer starts with the first wait.</summary>
    private ValueTask<PooledBackend?> Queue(PoolKey key, BackendWaiter waiter)
    {
        var wait = waiter.Start();
        waiter.Pool = this;
        waiter.Key = key;
        waiter.Since = Stopwatch.GetTimestamp();
        _waiters.AddLast(waiter.Node);
        if (_sweep is null && waitTimeout > TimeSpan.Zero)
        {
            var period = TimeSpan.FromTicks(Math.Clamp(waitTimeout.Ticks / 8, TimeSpan.TicksPerMillisecond * 10, TimeSpan.TicksPerSecond));
            _sweep = new Timer(static pool => ((BackendPool)pool!).EndLongWaits(), this, period, period);
        }
        return wait;
    }

    /// <summary>
    /// A cancel of <paramref name="waiter"/>'s wait (its client's CancelRequest): it ends with 57014 if it still waits for a backend
    /// or logs one in for it; false when it does neither (it has its backend).
    /// </summary>
    public bool Cancel(BackendWaiter waiter)
    {
        if (Abandon(waiter, new PgErrorException(PgError.Error(SqlState.QueryCanceled, "canceling statement due to user request",
                "The statement was still waiting for a pooled backend and did not run."))))
            return true;
        try
        {
            if (waiter.Login is { } login)
            {
                login.Cancel();
                return true;
            }
        }
        catch (ObjectDisposedException)
        {
        }
        return false;
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

    /// <summary>
    /// The pool's timer (every eighth of the timeout, 10 ms to 1 s): waits past the timeout end with 57014. The queue is in the
    /// order the waits began, so only its head is looked at.
    /// </summary>
    private void EndLongWaits()
    {
        List<BackendWaiter>? expired = null;
        var now = Stopwatch.GetTimestamp();
        lock (_gate)
        {
            while (_waiters.First is { } first && Stopwatch.GetElapsedTime(first.Value.Since, now) >= waitTimeout)
            {
                Remove(first.Value);
                (expired ??= []).Add(first.Value);
            }
        }
        foreach (var waiter in expired ?? [])
        {
            waiter.Fail(new PgErrorException(PgError.Error(SqlState.QueryCanceled,
                $"canceling statement: waited {waitTimeout.TotalSeconds:0.#} s for one of the pool's {size} backends",
                "Every pooled backend is in another client's transaction: shorten transactions, raise --pool (up to the server's max_connections) or --pool-timeout.")));
        }
    }

    private void RecordWait(BackendWaiter waiter)
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
        BackendWaiter? next = null;
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
                next.Complete(null);
            return;
        }
        next!.Complete(backend);
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
        BackendWaiter? next;
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
        next.Complete(null); // the slot stays counted: the waiter logs in a backend
    }

    private BackendWaiter? FirstWaiter(PoolKey key)
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

    /// <summary>Takes the waiter out of the queue (under the lock); whoever does completes it.</summary>
    private void Remove(BackendWaiter waiter)
    {
        if (waiter.Node.List is null)
            return;
        _waiters.Remove(waiter.Node);
        RecordWait(waiter);
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

    /// <summary>Ends the wait with <paramref name="error"/> if it still waits; false when it was given a backend or a slot already.</summary>
    private bool Abandon(BackendWaiter waiter, Exception error)
    {
        lock (_gate)
        {
            if (waiter.Node.List is null)
                return false;
            Remove(waiter);
        }
        // Off the canceller's thread: the waiter's continuation runs synchronously, and here it would run inside the canceller
        // (a CancellationTokenSource.Cancel, or a CancelRequest's connection).
        ThreadPool.UnsafeQueueUserWorkItem(static state => state.waiter.Fail(state.error), (waiter, error), preferLocal: false);
        return true;
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
            _sweep?.Dispose();
            idle = _idle.Values.SelectMany(s => s).ToList();
            _idle.Clear();
            _idleCount = 0;
        }
        foreach (var backend in idle)
            await CloseAsync(backend);
    }
}

/// <summary>The pool's state for /metrics and SHOW POOLS: backends open (lent or idle), clients waiting, waits so far.</summary>
internal readonly record struct PoolCounts(int Size, int Open, int Idle, int Waiting, long Waits, TimeSpan WaitTotal, TimeSpan LongestWait, TimeSpan OldestWaiting)
{
    public int Busy => Open - Idle;
}
