using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;

namespace ZeroPg.Platform.Linux;

/// <summary>
/// A pooled listener of ZeroPg's own (TCP or Unix socket): accepts with .NET's sockets (the listening socket only) and gives
/// each accepted client's socket to <see cref="EpollSockets"/> as an <see cref="EpollConnection"/>, which Kestrel then runs
/// through the connection's handler as any other. Thread: Kestrel's accept loop.
/// </summary>
internal sealed class EpollListener : IConnectionListener
{
    private readonly Socket _socket;
    private readonly EpollSockets _loop;

    private EpollListener(Socket socket, EpollSockets loop)
    {
        _socket = socket;
        _loop = loop;
        EndPoint = socket.LocalEndPoint!;
    }

    public EndPoint EndPoint { get; }

    private static long _accepted;

    /// <summary>Clients accepted by every listener of the process so far (tests check that pooled clients come this way).</summary>
    public static long Accepted => Interlocked.Read(ref _accepted);

    public static EpollListener Bind(EndPoint endpoint, EpollSockets loop)
    {
        var socket = endpoint is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endpoint is IPEndPoint ip && ip.Address.Equals(IPAddress.IPv6Any))
                socket.DualMode = true; // as Kestrel's socket transport: [::] takes IPv4 clients too
            socket.Bind(endpoint);
            socket.Listen(512);
            return new EpollListener(socket, loop);
        }
        catch (SocketException error) when (error.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            socket.Dispose();
            throw new AddressInUseException(error.Message, error);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await _socket.AcceptAsync(cancellationToken);
            }
            catch (Exception error) when (error is ObjectDisposedException or OperationCanceledException
                || error is SocketException { SocketErrorCode: SocketError.OperationAborted or SocketError.Interrupted or SocketError.InvalidArgument })
            {
                return null; // unbound
            }
            catch (SocketException)
            {
                continue; // a client that reset before it was accepted
            }
            try
            {
                if (client.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
                    client.NoDelay = true;
                var connection = new EpollConnection(client, _loop);
                Interlocked.Increment(ref _accepted);
                return connection;
            }
            catch (Exception error) when (error is SocketException or IOException or ObjectDisposedException)
            {
                client.Dispose();
            }
        }
    }

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        _socket.Dispose();
        return default;
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return default;
    }
}
