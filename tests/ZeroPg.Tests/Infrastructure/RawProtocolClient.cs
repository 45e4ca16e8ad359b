using System.Net.Sockets;
using ZeroPg.Protocol;

namespace ZeroPg.Tests.Infrastructure;

/// <summary>
/// A bare TCP Postgres protocol 3.0 client for tests that need exact control of the bytes on the wire, broken ones
/// included. Frontend messages are queued with the fluent builders (or <see cref="Bytes"/> for hand-made ones) and
/// go out together on <see cref="FlushAsync"/>, so a test decides what reaches the server in one write; replies are
/// read one message at a time, framed by the server's own client (<see cref="WireClient"/>).
/// </summary>
public sealed partial class RawProtocolClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly WireClient _wire;
    private readonly MemoryStream _pending = new();

    private RawProtocolClient(TcpClient tcp)
    {
        _tcp = tcp;
        _wire = new WireClient(tcp.GetStream());
    }

    /// <summary>The replies to the last <see cref="StartupAsync"/>, up to its ReadyForQuery; empty before one.</summary>
    public IReadOnlyList<Message> StartupReplies { get; private set; } = [];

    /// <summary>The BackendKeyData body (process id and secret key) a CancelRequest for this session must carry.</summary>
    public byte[] BackendKey => StartupReplies.Single(m => m.Code == 'K').Body;

    /// <summary>Connects and completes a normal startup, so the session is ready for queries; <paramref name="receiveBuffer"/>: the
    /// socket's SO_RCVBUF (set before connecting, it stops the kernel's autotuning: a client that reads late fills it soon).</summary>
    public static async Task<RawProtocolClient> ConnectAsync(ZeroPgServer server, int? receiveBuffer = null)
    {
        var client = await ConnectWithoutStartupAsync(server.Host, server.Port, receiveBuffer);
        try
        {
            await client.StartupAsync();
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>Connects to any server speaking the protocol (native PostgreSQL in the driver tests) and completes a normal startup.</summary>
    public static async Task<RawProtocolClient> ConnectAsync(string host, int port)
    {
        var client = await ConnectWithoutStartupAsync(host, port);
        try
        {
            await client.StartupAsync();
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>Only the TCP connection, for tests that drive the startup phase themselves (SSLRequest, CancelRequest, broken packets).</summary>
    public static Task<RawProtocolClient> ConnectWithoutStartupAsync(ZeroPgServer server) => ConnectWithoutStartupAsync(server.Host, server.Port);

    private static async Task<RawProtocolClient> ConnectWithoutStartupAsync(string host, int port, int? receiveBuffer = null)
    {
        var tcp = new TcpClient { NoDelay = true };
        if (receiveBuffer is { } size)
            tcp.ReceiveBufferSize = size;
        try
        {
            await tcp.ConnectAsync(host, port);
            return new RawProtocolClient(tcp);
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>Sends a normal StartupMessage (anything still queued goes first) and reads up to its ReadyForQuery.</summary>
    public async Task<List<Message>> StartupAsync()
    {
        await Bytes(StartupPacket(ProtocolVersion3, "user", "postgres", "database", "postgres")).FlushAsync();
        var replies = await ReadUntilReadyAsync();
        // A failed startup would otherwise surface later as a confusing error on the first query.
        if (replies.FirstOrDefault(m => m.Code == 'E') is { } error)
            throw new InvalidOperationException($"startup failed: {error}");
        StartupReplies = replies;
        return replies;
    }

    /// <summary>Drops the connection without Terminate, as a killed client process would.</summary>
    public void Kill()
    {
        _tcp.Client.LingerState = new LingerOption(true, 0); // RST, like a crashed process's socket
        _tcp.Close();
    }

    /// <summary>Closes the connection without Terminate the way a process that exits or is killed does: the kernel sends FIN (no RST while nothing sent to it is unread).</summary>
    public void CloseWithoutTerminate() => _tcp.Close();

    /// <summary>Ends only what this client sends (FIN; shutdown(SHUT_WR)) and keeps reading, as `nc -N` or a proxy passing on a half-close does.</summary>
    public void EndSending() => _tcp.Client.Shutdown(SocketShutdown.Send);

    public ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }
}
