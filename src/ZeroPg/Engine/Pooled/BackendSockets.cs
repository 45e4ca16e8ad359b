using System.Net;
using System.Net.Sockets;
using ZeroPg.Platform.Linux;

namespace ZeroPg.Engine.Pooled;

/// <summary>
/// A backend's plain connection (a Unix socket, or TCP before any TLS): with the pool's own event loop (Linux,
/// <see cref="PoolEventLoop"/>) a stream whose waits are that loop's (<see cref="EpollSocketStream"/>: no EAGAIN read per reply,
/// its replies forwarded on the thread that serves the clients), otherwise .NET's <see cref="NetworkStream"/>.
/// </summary>
internal static class BackendSockets
{
    public static async Task<Stream> ConnectAsync(EndPoint endpoint, EpollSockets? loop, CancellationToken cancellationToken)
    {
        var socket = endpoint is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (loop is null)
            {
                await socket.ConnectAsync(endpoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            // A blocking connect, off the caller's thread: an async one would register the socket with .NET's engine for good.
            using (cancellationToken.UnsafeRegister(static s => ((Socket)s!).Dispose(), socket))
            {
                try
                {
                    await Task.Run(() => socket.Connect(endpoint), cancellationToken);
                }
                catch (Exception error) when (error is ObjectDisposedException or SocketException && cancellationToken.IsCancellationRequested)
                {
                    throw new OperationCanceledException(cancellationToken);
                }
            }
            return new EpollSocketStream(socket, loop);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
