using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using ZeroPg.Migrations;
using ZeroPg.Protocol;
using ZeroPg.Security;

namespace ZeroPg.Server;

/// <summary>
/// A client connection of the server to itself, over its own port, for work that must run as any client's does
/// (<see cref="ZeroPgServer.ExecScriptAsync"/>): scheduled with the others, in a session of its own, never inside
/// another client's transaction. Speaks the simple protocol: startup (trust or SCRAM-SHA-256), then one Query per call.
/// </summary>
internal sealed class LoopbackSession : IMigrationSession, IAsyncDisposable
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;

    private LoopbackSession(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
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
            await session.StartAsync(user, password, database, cancellationToken);
            return session;
        }
        catch
        {
            await session.DisposeAsync();
            throw;
        }
    }

    private async Task StartAsync(string user, string? password, string database, CancellationToken cancellationToken)
    {
        var parameters = Encoding.UTF8.GetBytes($"user\0{user}\0database\0{database}\0application_name\0zeropg\0\0");
        var startup = new byte[8 + parameters.Length];
        BinaryPrimitives.WriteInt32BigEndian(startup, startup.Length);
        BinaryPrimitives.WriteInt32BigEndian(startup.AsSpan(4), 3 << 16);
        parameters.CopyTo(startup, 8);
        await _stream.WriteAsync(startup, cancellationToken);
        ScramClient? scram = null;
        while (true)
        {
            var (code, body) = await ReadMessageAsync(cancellationToken);
            switch ((char)code)
            {
                case 'R':
                    var kind = BinaryPrimitives.ReadInt32BigEndian(body);
                    if (kind == 10)
                    {
                        scram = new ScramClient(password ?? throw new InvalidOperationException("the server asks for a password and none is configured"));
                        var first = scram.First();
                        var mechanism = Encoding.UTF8.GetBytes(ScramExchange.Mechanism + "\0");
                        await WritePasswordMessageAsync([.. mechanism, .. BigEndian(first.Length), .. first], cancellationToken);
                    }
                    else if (kind == 11)
                        await WritePasswordMessageAsync(scram!.Final(Encoding.UTF8.GetString(body.AsSpan(4))), cancellationToken);
                    else if (kind == 12 && !scram!.Verify(Encoding.UTF8.GetString(body.AsSpan(4))))
                        throw new InvalidOperationException("the server's SCRAM signature did not verify");
                    break;
                case 'E':
                    SimpleQueryReply.Parse([code, .. BigEndian(body.Length + 4), .. body]); // throws the error
                    break;
                case 'Z':
                    return;
            }
        }
    }

    /// <summary>Runs one simple Query; the rows of its last result set, or its first error as <see cref="MigrationSqlException"/>.</summary>
    public async Task<IReadOnlyList<string?[]>> QueryAsync(string sql, CancellationToken cancellationToken)
    {
        var text = Encoding.UTF8.GetBytes(sql);
        byte[] query = [(byte)'Q', .. BigEndian(text.Length + 5), .. text, 0];
        await _stream.WriteAsync(query, cancellationToken);
        var reply = new MemoryStream();
        while (true)
        {
            var (code, body) = await ReadMessageAsync(cancellationToken);
            reply.WriteByte(code);
            reply.Write(BigEndian(body.Length + 4));
            reply.Write(body);
            if (code == (byte)'Z')
                return SimpleQueryReply.Parse(reply.ToArray());
        }
    }

    private async Task WritePasswordMessageAsync(byte[] body, CancellationToken cancellationToken)
    {
        byte[] message = [(byte)'p', .. BigEndian(body.Length + 4), .. body];
        await _stream.WriteAsync(message, cancellationToken);
    }

    private async Task<(byte Code, byte[] Body)> ReadMessageAsync(CancellationToken cancellationToken)
    {
        var header = new byte[MessageFramer.HeaderLength];
        await _stream.ReadExactlyAsync(header, cancellationToken);
        var body = new byte[BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(1)) - 4];
        await _stream.ReadExactlyAsync(body, cancellationToken);
        return (header[0], body);
    }

    private static byte[] BigEndian(int value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        return bytes;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_client.Connected)
                await _stream.WriteAsync(new byte[] { (byte)'X', 0, 0, 0, 4 });
        }
        catch (IOException)
        {
        }
        _client.Dispose();
    }
}
