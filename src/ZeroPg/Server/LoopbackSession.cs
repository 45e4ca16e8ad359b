using System.Net.Sockets;
using ZeroPg.Migrations;
using ZeroPg.Protocol;

namespace ZeroPg.Server;

/// <summary>
/// A client connection of the server to itself, over its own port, for work that must run as any client's does
/// (<see cref="ZeroPgServer.ExecScriptAsync"/>): scheduled with the others, in a session of its own, never inside
/// another client's transaction. Speaks the simple protocol through <see cref="WireClient"/>: startup (trust or
/// SCRAM-SHA-256), then one Query per call.
/// </summary>
internal sealed class LoopbackSession : IMigrationSession, IAsyncDisposable
{
    private readonly TcpClient _client;
    private readonly WireClient _wire;

    /// <summary>The process id the server gave this session (its BackendKeyData; 0 when it sent none).</summary>
    public int ProcessId { get; private set; }

    private LoopbackSession(TcpClient client)
    {
        _client = client;
        _wire = new WireClient(client.GetStream());
    }

    public static async Task<LoopbackSession> OpenAsync(string host, int port, string user, string? password, string database, CancellationToken cancellationToken)
    {
        var client = new TcpClient();
        try
        {
            await client.ConnectAsync(host is "0.0.0.0" or "*" ? "127.0.0.1" : host is "::" ? "::1" : host, port, cancellationToken);
        }
        catch
        {
            client.Dispose();
            throw;
        }
        var session = new LoopbackSession(client);
        try
        {
            var replies = await session._wire.StartupAsync([("user", user), ("database", database), ("application_name", "zeropg")], password, cancellationToken);
            SimpleQueryReply.Parse(Concat(replies)); // throws the error of a refused startup
            if (replies.Count == 0 || !replies[^1].Is(BackendCode.ReadyForQuery))
                throw new IOException("the server closed the connection during startup");
            if (replies.Find(m => m.Is(BackendCode.BackendKeyData)) is { Length: >= 9 } key)
                session.ProcessId = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(key.AsSpan(5));
            return session;
        }
        catch
        {
            await session.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs one simple Query; the rows of its last result set, or its first error as <see cref="MigrationSqlException"/>.</summary>
    public async Task<IReadOnlyList<string?[]>> QueryAsync(string sql, CancellationToken cancellationToken)
    {
        var reply = await _wire.QueryAsync(sql, cancellationToken);
        if (reply.Count == 0 || !reply[^1].Is(BackendCode.ReadyForQuery))
        {
            SimpleQueryReply.Parse(Concat(reply)); // a FATAL before the close
            throw new IOException("the server closed the connection during a query");
        }
        return SimpleQueryReply.Parse(Concat(reply));
    }

    /// <summary>Sends prebuilt frontend messages (ending in Sync or a Query) and reads the reply up to ReadyForQuery; its first error as <see cref="MigrationSqlException"/>.</summary>
    public async Task ExchangeAsync(ReadOnlyMemory<byte> messages, CancellationToken cancellationToken)
    {
        await _wire.WriteAsync(messages, cancellationToken);
        var reply = await _wire.ReadUntilReadyAsync(cancellationToken);
        if (reply.Count == 0 || !reply[^1].Is(BackendCode.ReadyForQuery) || reply.Exists(m => m.Is(BackendCode.ErrorResponse)))
        {
            SimpleQueryReply.Parse(Concat(reply));
            throw new IOException("the server closed the connection during an exchange");
        }
    }

    private static byte[] Concat(List<byte[]> messages) => [.. messages.SelectMany(m => m)];

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_client.Connected)
                await _wire.TerminateAsync();
        }
        catch (IOException)
        {
        }
        _client.Dispose();
    }
}
