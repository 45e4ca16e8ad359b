using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using ZeroPg.Engine.Native;
using ZeroPg.Hosting;
using ZeroPg.Sessions;

namespace ZeroPg.Server;

/// <summary>
/// <c>--engine postgres</c>: each client connection is passed to a backend of the native server of its own.
/// ZeroPg answers the startup requests it owns (TLS, which ends here; GSSENCRequest 'N'), then hands the
/// StartupMessage and every byte after it to the backend unchanged, and the backend's bytes back: the backend
/// authenticates, and its BackendKeyData reaches the client, so a CancelRequest is passed to the server too.
/// </summary>
internal sealed class NativeConnectionHandler(SessionServices services, NativeCluster cluster, ZeroPgMetrics metrics) : ConnectionHandler
{
    private int _open;

    /// <summary>Client connections being passed through now.</summary>
    public int OpenConnections => Volatile.Read(ref _open);

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        metrics.RecordConnectionAccepted();
        var start = await SessionStartup.ReadAsync(connection, services, ForwardCancelAsync);
        if (start is null)
            return;
        Interlocked.Increment(ref _open);
        try
        {
            await using var backend = await ConnectAsync(connection.ConnectionClosed);
            await backend.WriteAsync(start.Bytes, connection.ConnectionClosed);
            var toBackend = PumpToBackendAsync(connection.Transport.Input, backend, connection.ConnectionClosed);
            var toClient = PumpToClientAsync(backend, connection.Transport.Output);
            // Whichever side ends first ends the connection: a client that leaves ends its backend (and its transaction).
            await Task.WhenAny(toBackend, toClient);
        }
        catch (Exception error) when (ConnectionErrors.IsDisconnect(error) || error is SocketException)
        {
            // One side went away.
        }
        finally
        {
            Interlocked.Decrement(ref _open);
            if (start.Tls is not null)
                await start.Tls.DisposeAsync();
        }
    }

    private async Task<NetworkStream> ConnectAsync(CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(cluster.SocketFile), cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task ForwardCancelAsync(byte[] packet)
    {
        try
        {
            await using var backend = await ConnectAsync(CancellationToken.None);
            await backend.WriteAsync(packet);
        }
        catch (Exception error) when (error is IOException or SocketException)
        {
            // As in Postgres, a CancelRequest gets no answer, whatever becomes of it.
        }
    }

    private static async Task PumpToBackendAsync(PipeReader client, NetworkStream backend, CancellationToken closed)
    {
        try
        {
            await client.CopyToAsync(backend, closed);
        }
        finally
        {
            backend.Socket.Shutdown(SocketShutdown.Send);
        }
    }

    private static async Task PumpToClientAsync(NetworkStream backend, PipeWriter client)
    {
        await backend.CopyToAsync(client);
        await client.CompleteAsync();
    }
}
