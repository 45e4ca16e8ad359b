using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace ZeroPg.Tests.Infrastructure;

/// <summary>
/// A hand-driven Postgres protocol 3.0 client for tests that need exact control of the messages:
/// messages are queued with the Add methods, sent with <see cref="FlushAsync"/>, and replies read one by one.
/// </summary>
public sealed class RawProtocolClient : IAsyncDisposable
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly MemoryStream _pending = new();

    private RawProtocolClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    /// <summary>One backend message: its type byte and body (without the length).</summary>
    public sealed record Message(char Code, byte[] Body)
    {
        /// <summary>The SQLSTATE of an ErrorResponse/NoticeResponse.</summary>
        public string? SqlState => Field('C');

        /// <summary>The primary message of an ErrorResponse/NoticeResponse.</summary>
        public string? Text => Field('M');

        public string? Field(char field)
        {
            if (Code is not ('E' or 'N'))
                return null;
            var offset = 0;
            while (offset < Body.Length && Body[offset] != 0)
            {
                var type = (char)Body[offset];
                var end = Array.IndexOf(Body, (byte)0, offset + 1);
                if (type == field)
                    return Encoding.UTF8.GetString(Body, offset + 1, end - offset - 1);
                offset = end + 1;
            }
            return null;
        }

        /// <summary>The text columns of a DataRow (null for SQL NULL).</summary>
        public string?[] Columns()
        {
            if (Code != 'D')
                throw new InvalidOperationException($"'{Code}' is not a DataRow");
            var count = BinaryPrimitives.ReadInt16BigEndian(Body);
            var values = new string?[count];
            var offset = 2;
            for (var i = 0; i < count; i++)
            {
                var length = BinaryPrimitives.ReadInt32BigEndian(Body.AsSpan(offset));
                offset += 4;
                if (length < 0)
                    continue;
                values[i] = Encoding.UTF8.GetString(Body, offset, length);
                offset += length;
            }
            return values;
        }

        public override string ToString() => Code is 'E' or 'N' ? $"{Code} {SqlState} {Text}" : Code.ToString();
    }

    public Socket Socket => _tcp.Client;

    /// <summary>Connects, sends the startup packet and reads up to the first ReadyForQuery.</summary>
    public static async Task<RawProtocolClient> ConnectAsync(string host, int port, string user = "postgres", string database = "postgres")
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(host, port);
        var client = new RawProtocolClient(tcp);
        var body = new MemoryStream();
        WriteInt32(body, 196608);
        foreach (var (name, value) in new[] { ("user", user), ("database", database) })
        {
            WriteCString(body, name);
            WriteCString(body, value);
        }
        body.WriteByte(0);
        var packet = new MemoryStream();
        WriteInt32(packet, (int)body.Length + 4);
        body.WriteTo(packet);
        await client._stream.WriteAsync(packet.ToArray());
        var startup = await client.ReadUntilReadyAsync();
        if (startup.FirstOrDefault(m => m.Code == 'E') is { } error)
            throw new InvalidOperationException($"startup failed: {error}");
        return client;
    }

    public static Task<RawProtocolClient> ConnectAsync(ZeroPgServer server) => ConnectAsync(server.Host, server.Port);

    public RawProtocolClient Parse(string name, string sql, params uint[] parameterTypes)
    {
        var body = new MemoryStream();
        WriteCString(body, name);
        WriteCString(body, sql);
        WriteInt16(body, (short)parameterTypes.Length);
        foreach (var type in parameterTypes)
            WriteInt32(body, (int)type);
        return Add('P', body);
    }

    /// <summary>Bind with text parameters and text results.</summary>
    public RawProtocolClient Bind(string portal, string statement, params string?[] parameters)
    {
        var body = new MemoryStream();
        WriteCString(body, portal);
        WriteCString(body, statement);
        WriteInt16(body, 0); // all parameters in text
        WriteInt16(body, (short)parameters.Length);
        foreach (var parameter in parameters)
        {
            if (parameter is null)
            {
                WriteInt32(body, -1);
                continue;
            }
            var bytes = Encoding.UTF8.GetBytes(parameter);
            WriteInt32(body, bytes.Length);
            body.Write(bytes);
        }
        WriteInt16(body, 0); // all results in text
        return Add('B', body);
    }

    public RawProtocolClient Execute(string portal = "", int maxRows = 0)
    {
        var body = new MemoryStream();
        WriteCString(body, portal);
        WriteInt32(body, maxRows);
        return Add('E', body);
    }

    public RawProtocolClient DescribeStatement(string name) => Targeted('D', 'S', name);

    public RawProtocolClient CloseStatement(string name) => Targeted('C', 'S', name);

    public RawProtocolClient Sync() => Add('S', new MemoryStream());

    public RawProtocolClient Flush() => Add('H', new MemoryStream());

    public RawProtocolClient Query(string sql)
    {
        var body = new MemoryStream();
        WriteCString(body, sql);
        return Add('Q', body);
    }

    public RawProtocolClient CopyData(string data) => Add('d', new MemoryStream(Encoding.UTF8.GetBytes(data)));

    public RawProtocolClient Terminate() => Add('X', new MemoryStream());

    /// <summary>Sends every queued message.</summary>
    public async Task FlushAsync()
    {
        var bytes = _pending.ToArray();
        _pending.SetLength(0);
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    /// <summary>Reads one message; null when the server closed the connection.</summary>
    public async Task<Message?> ReadAsync(TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? DefaultTimeout);
        var header = new byte[5];
        if (!await ReadExactlyOrEndAsync(header, cancel.Token))
            return null;
        var length = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(1));
        var body = new byte[length - 4];
        if (!await ReadExactlyOrEndAsync(body, cancel.Token))
            throw new EndOfStreamException("connection closed inside a message");
        return new Message((char)header[0], body);
    }

    /// <summary>Reads messages up to and including the next ReadyForQuery.</summary>
    public async Task<List<Message>> ReadUntilReadyAsync(TimeSpan? timeout = null)
    {
        var messages = new List<Message>();
        while (true)
        {
            var message = await ReadAsync(timeout) ?? throw new EndOfStreamException(
                $"connection closed before ReadyForQuery; got: {string.Join(", ", messages)}");
            messages.Add(message);
            if (message.Code == 'Z')
                return messages;
        }
    }

    /// <summary>Sends the queued messages and reads the replies up to ReadyForQuery.</summary>
    public async Task<List<Message>> RoundTripAsync(TimeSpan? timeout = null)
    {
        await FlushAsync();
        return await ReadUntilReadyAsync(timeout);
    }

    /// <summary>Drops the connection without Terminate, as a killed client process would.</summary>
    public void Kill()
    {
        _tcp.Client.LingerState = new LingerOption(true, 0); // RST, like a crashed process's socket
        _tcp.Close();
    }

    public ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<bool> ReadExactlyOrEndAsync(byte[] buffer, CancellationToken cancellationToken)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await _stream.ReadAsync(buffer.AsMemory(read), cancellationToken);
            if (n == 0)
            {
                if (read == 0)
                    return false;
                throw new EndOfStreamException("connection closed inside a message");
            }
            read += n;
        }
        return true;
    }

    private RawProtocolClient Targeted(char code, char target, string name)
    {
        var body = new MemoryStream();
        body.WriteByte((byte)target);
        WriteCString(body, name);
        return Add(code, body);
    }

    private RawProtocolClient Add(char code, MemoryStream body)
    {
        _pending.WriteByte((byte)code);
        WriteInt32(_pending, (int)body.Length + 4);
        body.WriteTo(_pending);
        return this;
    }

    private static void WriteInt32(Stream stream, int value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        stream.Write(bytes);
    }

    private static void WriteInt16(Stream stream, short value)
    {
        Span<byte> bytes = stackalloc byte[2];
        BinaryPrimitives.WriteInt16BigEndian(bytes, value);
        stream.Write(bytes);
    }

    private static void WriteCString(Stream stream, string value)
    {
        stream.Write(Encoding.UTF8.GetBytes(value));
        stream.WriteByte(0);
    }
}
