using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace ZeroPg.Platform.Linux;

/// <summary>
/// A client connection accepted by <see cref="EpollListener"/> whose socket waits on <see cref="EpollSockets"/>, never on .NET's
/// socket engine. Reads: on a readable edge the loop's thread reads until the socket is empty (a read shorter than its buffer
/// emptied it: no EAGAIN read after it) into the input pipe, whose reader (the pooled client's loop) goes on inline, on this
/// thread: its message is framed and written to a backend before the next event. Writes: the output pipe's reader sends what
/// a flush gave it, at once when flushed off the loop's thread, after the loop's current batch of events when on it
/// (<see cref="EpollSockets.AfterEvents"/>); only a send that finds no room waits, for the room-to-write edge.
/// Threads: the loop's thread reads (<see cref="_readLock"/> orders it with a read resumed after the input pipe was full); the
/// flusher of the output pipe sends; Kestrel disposes.
/// </summary>
internal sealed class EpollConnection : ConnectionContext, IEpollWatcher
{
    private const int ReadSize = 16 * 1024;

    private readonly Socket _socket;
    private readonly EpollSockets _loop;
    private readonly int _fd;
    private readonly long _id;
    private readonly Pipe _input = new(new PipeOptions(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline,
        pauseWriterThreshold: 1024 * 1024, resumeWriterThreshold: 512 * 1024, useSynchronizationContext: false));
    private readonly Pipe _output;
    private readonly EpollSend _send;
    private readonly CancellationTokenSource _closed = new();
    private readonly Lock _readLock = new();
    private readonly Task _sending;
    private bool _readPaused; // the input pipe is full: its reader's progress resumes reading (ResumeReading)
    private bool _readEnded;
    private int _disposed;

    public EpollConnection(Socket socket, EpollSockets loop)
    {
        socket.Blocking = false; // sends and receives try once and return WouldBlock, without .NET's engine
        _socket = socket;
        _loop = loop;
        _send = new EpollSend(socket, loop, static error => new ConnectionResetException($"the client's socket failed: {error}"));
        _output = new(new PipeOptions(readerScheduler: loop.AfterEvents, writerScheduler: PipeScheduler.Inline,
            pauseWriterThreshold: 1024 * 1024, resumeWriterThreshold: 512 * 1024, useSynchronizationContext: false));
        _fd = (int)socket.SafeHandle.DangerousGetHandle(); // the socket owns it; removed from epoll before the socket closes
        LocalEndPoint = socket.LocalEndPoint;
        RemoteEndPoint = socket.RemoteEndPoint;
        Transport = new DuplexPipe(_input.Reader, _output.Writer);
        ConnectionClosed = _closed.Token;
        _sending = SendAsync();
        _id = loop.Add(_fd, this); // bytes already there raise the first edge at once
    }

    public override string ConnectionId { get; set; } = Guid.NewGuid().ToString("N");
    public override IFeatureCollection Features { get; } = new FeatureCollection();
    public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();
    public override IDuplexPipe Transport { get; set; }

    public void OnEvents(uint events)
    {
        if ((events & (LinuxLibc.EPOLLOUT | LinuxLibc.EPOLLHUP | LinuxLibc.EPOLLERR)) != 0)
            _send.Signal();
        if ((events & (LinuxLibc.EPOLLIN | LinuxLibc.EPOLLRDHUP | LinuxLibc.EPOLLHUP | LinuxLibc.EPOLLERR)) != 0)
            Read();
    }

    /// <summary>Reads until the socket is empty, the input pipe is full, or the client's end; each read is given to the pipe's reader at once.</summary>
    private void Read()
    {
        lock (_readLock)
        {
            while (!_readPaused && !_readEnded && _disposed == 0)
            {
                var writer = _input.Writer;
                var memory = writer.GetMemory(ReadSize);
                var read = _socket.Receive(memory.Span, SocketFlags.None, out var error);
                if (error == SocketError.WouldBlock)
                    return;
                if (error != SocketError.Success || read == 0)
                {
                    _readEnded = true;
                    writer.Complete(error == SocketError.Success ? null : new ConnectionResetException($"the client's socket failed: {error}"));
                    if (error != SocketError.Success)
                        Cancel();
                    return;
                }
                writer.Advance(read);
                var flush = writer.FlushAsync(); // the pooled client's loop runs here, inline
                if (!flush.IsCompleted)
                {
                    _readPaused = true;
                    var awaiter = flush.GetAwaiter();
                    awaiter.UnsafeOnCompleted(() => ResumeReading(awaiter));
                    return;
                }
                if (flush.Result.IsCompleted)
                {
                    _readEnded = true; // the reader is done with the connection
                    return;
                }
                if (read < memory.Length)
                    return; // the socket is empty: the next bytes raise an edge
            }
        }
    }

    private void ResumeReading(ValueTaskAwaiter<FlushResult> awaiter)
    {
        // Off the reader's thread (it is inside AdvanceTo): the read loop runs again, on a pool thread, then on the loop's edges.
        ThreadPool.UnsafeQueueUserWorkItem(static state =>
        {
            var (connection, awaiter) = ((EpollConnection, ValueTaskAwaiter<FlushResult>))state!;
            bool done;
            try
            {
                done = awaiter.GetResult().IsCompleted;
            }
            catch (Exception)
            {
                done = true;
            }
            lock (connection._readLock)
            {
                connection._readPaused = false;
                connection._readEnded |= done;
            }
            connection.Read();
        }, (this, awaiter), preferLocal: false);
    }

    /// <summary>The output pipe's reader: goes on after each flush of the writer (<see cref="EpollSockets.AfterEvents"/>) and sends what it was given.</summary>
    private async Task SendAsync()
    {
        var reader = _output.Reader;
        Exception? failure = null;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync();
                var buffer = result.Buffer;
                foreach (var segment in buffer)
                    await _send.AllAsync(segment, _fd, _id, _closed.Token);
                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                    break;
            }
        }
        catch (Exception error)
        {
            failure = error;
            Cancel(); // the client is gone: its session learns it from the token and from failing flushes
        }
        await reader.CompleteAsync(failure);
        if (failure is null && _disposed == 0)
        {
            try
            {
                _socket.Shutdown(SocketShutdown.Send); // the server ended the session: the client reads its end
            }
            catch (Exception error) when (error is SocketException or ObjectDisposedException)
            {
            }
        }
    }

    private void Cancel()
    {
        try
        {
            _closed.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public override void Abort(ConnectionAbortedException abortReason)
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception error) when (error is SocketException or ObjectDisposedException)
        {
        }
        _output.Reader.CancelPendingRead();
        Cancel();
    }

    public override async ValueTask DisposeAsync()
    {
        // What the session wrote last (its error, its end) goes out before the socket closes.
        await _output.Writer.CompleteAsync();
        try
        {
            await _sending.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            Abort(new ConnectionAbortedException("the client read nothing of the session's last replies for 10 s")); // its send fails now
            await _sending;
        }
        // Kestrel may dispose inline in the session's last step, which can run inside Read's flush on the loop's thread: the rest
        // runs off it, once that read has ended.
        await Task.Yield();
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _send.Close(); // before the socket leaves the loop: a waiting send's end no longer touches its watch
        _loop.Remove(_fd, _id);
        lock (_readLock)
        {
            _readEnded = true;
            _input.Writer.Complete();
        }
        Cancel();
        _socket.Dispose();
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }
}
