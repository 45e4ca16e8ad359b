using System.Net.Sockets;

namespace ZeroPg.Platform.Linux;

/// <summary>
/// The writing half of a non-blocking socket on <see cref="EpollSockets"/>: what the kernel takes goes at once; when its buffer
/// is full the rest waits for the room-to-write edge, which the loop watches only while a send waits for it. One writer at a
/// time; the owner signals it from its <see cref="IEpollWatcher.OnEvents"/> and closes it when disposed. The loop's clients
/// (<see cref="EpollConnection"/>) and backends (<see cref="EpollSocketStream"/>) write through it.
/// </summary>
internal sealed class EpollSend(Socket socket, EpollSockets loop, Func<SocketError, Exception> failed)
{
    private readonly EdgeSignal _writable = new();
    private volatile bool _closed;

    /// <summary>The loop reported room to write (or the socket's end).</summary>
    public void Signal() => _writable.Signal();

    /// <summary>The owner is disposed: a waiting send ends, later ones throw.</summary>
    public void Close()
    {
        _closed = true;
        _writable.Close();
    }

    /// <summary>Sends all of <paramref name="bytes"/> on the socket the loop knows as <paramref name="fd"/> / <paramref name="id"/>.</summary>
    public async ValueTask AllAsync(ReadOnlyMemory<byte> bytes, int fd, long id, CancellationToken cancellationToken)
    {
        var watching = false;
        try
        {
            while (!bytes.IsEmpty)
            {
                ObjectDisposedException.ThrowIf(_closed, socket);
                _writable.Clear();
                var sent = socket.Send(bytes.Span, SocketFlags.None, out var error);
                if (error == SocketError.WouldBlock)
                {
                    if (!watching)
                    {
                        loop.WatchWrites(fd, id, writes: true); // reports at once when there is room already
                        watching = true;
                    }
                    await _writable.WaitAsync(cancellationToken);
                    continue;
                }
                if (error != SocketError.Success)
                    throw failed(error);
                bytes = bytes[sent..];
            }
        }
        finally
        {
            if (watching && !_closed)
                loop.WatchWrites(fd, id, writes: false);
        }
    }
}
