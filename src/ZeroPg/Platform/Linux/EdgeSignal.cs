using System.Threading.Tasks.Sources;

namespace ZeroPg.Platform.Linux;

/// <summary>
/// One direction of an <see cref="EpollSocketStream"/>: the edges <see cref="EpollSockets"/>' thread reports (new bytes to read,
/// room to write) and the one waiter for the next. An edge that comes with no waiter is kept, so none is lost between a read that
/// found the socket empty and the wait that follows. The waiter goes on synchronously on the thread that signals (the epoll
/// thread): a backend's reply is forwarded by the thread that learnt of it, with no hop. One waiter at a time (the stream's
/// reader, or its writer); the epoll thread signals; <see cref="_lock"/> owns the state, the waiter runs outside it.
/// </summary>
internal sealed class EdgeSignal : IValueTaskSource
{
    private enum State { Idle, Edge, Waiting, Closed }

    private readonly Lock _lock = new();
    private ManualResetValueTaskSourceCore<bool> _core; // RunContinuationsAsynchronously false: the waiter runs on the signaller's thread
    private State _state;
    private CancellationTokenRegistration _cancel;

    /// <summary>Forgets an edge already seen: the caller is about to read (or write) and will see what it announced.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            if (_state == State.Edge)
                _state = State.Idle;
        }
    }

    /// <summary>Completes at the next edge (at once if one came since the last <see cref="Clear"/>).</summary>
    public ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        short version;
        lock (_lock)
        {
            switch (_state)
            {
                case State.Edge:
                    _state = State.Idle;
                    return default;
                case State.Closed:
                    return ValueTask.FromException(new ObjectDisposedException(nameof(EpollSocketStream)));
                case State.Waiting:
                    throw new InvalidOperationException("a second wait on one direction of a socket");
            }
            _core.Reset();
            version = _core.Version;
            _state = State.Waiting;
        }
        if (cancellationToken.CanBeCanceled)
        {
            // Registered after the wait is published (a token already cancelled runs the callback here); the callback checks that
            // its wait is still the one pending. The waiter drops the registration as it takes its result.
            _cancel = cancellationToken.UnsafeRegister(static (state, token) =>
            {
                var (signal, version) = ((EdgeSignal, short))state!;
                signal.Cancel(version, token);
            }, (this, version));
        }
        return new ValueTask(this, version);
    }

    /// <summary>The epoll thread saw an edge: the waiter goes on here, or the edge is kept for the next wait.</summary>
    public void Signal()
    {
        lock (_lock)
        {
            if (_state != State.Waiting)
            {
                if (_state == State.Idle)
                    _state = State.Edge;
                return;
            }
            _state = State.Idle;
        }
        _core.SetResult(true);
    }

    /// <summary>The socket is closed: a waiter ends with ObjectDisposedException, as a read of a disposed socket does.</summary>
    public void Close()
    {
        lock (_lock)
        {
            var was = _state;
            _state = State.Closed;
            if (was != State.Waiting)
                return;
        }
        _core.SetException(new ObjectDisposedException(nameof(EpollSocketStream)));
    }

    private void Cancel(short version, CancellationToken token)
    {
        lock (_lock)
        {
            if (_state != State.Waiting || _core.Version != version)
                return;
            _state = State.Idle;
        }
        _core.SetException(new OperationCanceledException(token));
    }

    void IValueTaskSource.GetResult(short token)
    {
        _cancel.Unregister();
        _cancel = default;
        _core.GetResult(token);
    }

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
