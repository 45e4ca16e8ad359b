using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace ZeroPg.Platform.Linux;

/// <summary>
/// A stream over a connected non-blocking socket whose waits are <see cref="EpollSockets"/>' edges, never .NET's socket engine
/// (the socket is never given an async operation, so .NET never registers it). A read that got fewer bytes than it asked for
/// left the socket empty: the next read waits for an edge instead of trying first and getting EAGAIN. Writes go straight out;
/// one that finds no room waits for the room-to-write edge. One reader and one writer at a time (the pool's holder of the
/// backend, <c>PooledBackend</c>); their continuations run on the epoll thread.
/// </summary>
internal sealed class EpollSocketStream : Stream, IEpollWatcher
{
    private readonly Socket _socket;
    private readonly EpollSockets _epoll;
    private readonly int _fd;
    private readonly long _id;
    private readonly EdgeSignal _readable = new();
    private readonly EpollSend _send;
    private bool _empty; // the last read left the socket empty: wait for an edge before the next
    private int _disposed;

    public EpollSocketStream(Socket socket, EpollSockets epoll)
    {
        socket.Blocking = false; // sends and receives then try once and return WouldBlock, without .NET's engine
        _socket = socket;
        _epoll = epoll;
        _send = new EpollSend(socket, epoll, static error => new IOException($"a backend's socket failed: {error}", new SocketException((int)error)));
        _fd = (int)socket.SafeHandle.DangerousGetHandle(); // the socket owns it; removed from epoll before the socket closes
        _id = epoll.Add(_fd, this);
    }

    public void OnEvents(uint events)
    {
        if ((events & (LinuxLibc.EPOLLIN | LinuxLibc.EPOLLRDHUP | LinuxLibc.EPOLLHUP | LinuxLibc.EPOLLERR)) != 0)
            _readable.Signal();
        if ((events & (LinuxLibc.EPOLLOUT | LinuxLibc.EPOLLHUP | LinuxLibc.EPOLLERR)) != 0)
            _send.Signal();
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // a wait per backend reply: no state machine allocated each time
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
            return 0;
        int read;
        while (!TryRead(buffer, out read, out var edge, cancellationToken))
            await edge;
        return read;
    }

    /// <summary>
    /// Reads what the socket holds now, without waiting: true with <paramref name="read"/> bytes (0: the peer's end); false when it
    /// is empty: await <paramref name="edge"/>, then call again (it reads then). For a reader that awaits the edge itself (the
    /// pool's forwarder: no async method between it and the edge, per reply). One reader at a time.
    /// </summary>
    public bool TryRead(Memory<byte> buffer, out int read, out ValueTask edge, CancellationToken cancellationToken = default)
    {
        edge = default;
        while (true)
        {
            if (_empty)
            {
                var wait = _readable.WaitAsync(cancellationToken);
                if (!wait.IsCompleted)
                {
                    _empty = false; // the edge announces bytes: the call after the wait reads at once
                    edge = wait;
                    read = 0;
                    return false;
                }
                wait.GetAwaiter().GetResult(); // an edge came already (or the socket is closed: it throws)
            }
            else
                _readable.Clear(); // what an older edge announced is read now
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            read = _socket.Receive(buffer.Span, SocketFlags.None, out var error);
            if (error == SocketError.WouldBlock)
            {
                _empty = true;
                continue;
            }
            if (error != SocketError.Success)
                throw new IOException($"a backend's socket failed: {error}", new SocketException((int)error));
            _empty = read > 0 && read < buffer.Length; // at the end (0) every read returns 0 at once, with no edge to wait for
            return true;
        }
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        => _send.AllAsync(buffer, _fd, _id, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // The synchronous forms wait on the epoll thread's edge: never called on that thread (it would wait for itself).
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override void Flush()
    {
    }

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _send.Close(); // before the socket leaves the loop: a waiting send's end no longer touches its watch
            _epoll.Remove(_fd, _id);
            _readable.Close();
            _socket.Dispose();
        }
        base.Dispose(disposing);
    }
}
