using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace ZeroPg.Tests.Infrastructure;

/// <summary>A bare TCP Postgres client for tests that must send exact (or broken) protocol bytes.</summary>
public sealed class RawPgClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;

    private RawPgClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public sealed record Message(char Code, byte[] Body)
    {
        public string Text => Encoding.UTF8.GetString(Body);

        public override string ToString() => $"{Code}:{Text.Replace('\0', ' ')}";

        /// <summary>The SQLSTATE ('C' field) of an ErrorResponse.</summary>
        public string? SqlState => Field('C');

        public string? Field(char field)
        {
            var offset = 0;
            while (offset < Body.Length && Body[offset] != 0)
            {
                var end = Array.IndexOf(Body, (byte)0, offset + 1);
                if (Body[offset] == field)
                    return Encoding.UTF8.GetString(Body, offset + 1, end - offset - 1);
                offset = end + 1;
            }
            return null;
        }
    }

    public static async Task<RawPgClient> ConnectAsync(ZeroPgServer server)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(server.Host, server.Port);
        return new RawPgClient(tcp);
    }

    public Task SendAsync(byte[] bytes) => _stream.WriteAsync(bytes).AsTask();

    public static byte[] StartupPacket(int code = 196608, params string[] parameters)
    {
        var body = new List<byte>();
        foreach (var parameter in parameters)
        {
            body.AddRange(Encoding.UTF8.GetBytes(parameter));
            body.Add(0);
        }
        if (parameters.Length > 0)
            body.Add(0);
        var packet = new byte[8 + body.Count];
        BinaryPrimitives.WriteInt32BigEndian(packet, packet.Length);
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(4), code);
        body.CopyTo(packet, 8);
        return packet;
    }

    public static byte[] TypedMessage(char code, byte[] body)
    {
        var message = new byte[5 + body.Length];
        message[0] = (byte)code;
        BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(1), 4 + body.Length);
        body.CopyTo(message, 5);
        return message;
    }

    public static byte[] CString(string value) => [.. Encoding.UTF8.GetBytes(value), 0];

    public static byte[] Query(string sql) => TypedMessage('Q', CString(sql));

    /// <summary>Sends a normal StartupMessage and reads up to its ReadyForQuery.</summary>
    public async Task<List<Message>> StartupAsync()
    {
        await SendAsync(StartupPacket(196608, "user", "postgres", "database", "postgres"));
        return await ReadUntilReadyAsync();
    }

    public async Task<byte> ReadByteAsync()
    {
        var one = new byte[1];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await _stream.ReadExactlyAsync(one, timeout.Token);
        return one[0];
    }

    /// <summary>The next backend message, or null when the server closed the connection.</summary>
    public async Task<Message?> ReadMessageAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var header = new byte[5];
        var read = 0;
        while (read < 5)
        {
            var n = await _stream.ReadAsync(header.AsMemory(read), timeout.Token);
            if (n == 0)
                return read == 0 ? null : throw new EndOfStreamException("connection closed inside a message header");
            read += n;
        }
        var body = new byte[BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(1)) - 4];
        await _stream.ReadExactlyAsync(body, timeout.Token);
        return new Message((char)header[0], body);
    }

    public async Task<List<Message>> ReadUntilReadyAsync()
    {
        var messages = new List<Message>();
        while (true)
        {
            var message = await ReadMessageAsync() ?? throw new EndOfStreamException($"closed before ReadyForQuery; got {Describe(messages)}");
            messages.Add(message);
            if (message.Code == 'Z')
                return messages;
        }
    }

    /// <summary>Reads everything until the server closes the connection.</summary>
    public async Task<List<Message>> ReadUntilClosedAsync()
    {
        var messages = new List<Message>();
        try
        {
            while (await ReadMessageAsync() is { } message)
                messages.Add(message);
        }
        catch (IOException)
        {
            // A reset counts as closed too.
        }
        return messages;
    }

    public static string Describe(IEnumerable<Message> messages) => string.Join(",", messages.Select(m => m.Code));

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _tcp.Dispose();
    }
}
