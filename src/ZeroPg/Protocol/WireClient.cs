using System.Buffers.Binary;
using System.Text;
using ZeroPg.Security;

namespace ZeroPg.Protocol;

/// <summary>
/// The code base's one small Postgres client: frontend bytes out, whole backend messages in (framed by
/// <see cref="MessageFramer"/>, never a hand-read header), a startup answered with trust or SCRAM-SHA-256, simple Query.
/// The server's connection to itself (<see cref="Server.LoopbackSession"/>) and the tests' RawProtocolClient stand on it.
/// One reader and one writer at a time; it owns nothing but its read buffer (the stream is its caller's).
/// </summary>
internal sealed class WireClient(Stream stream)
{
    private const int AuthenticationOk = 0, AuthenticationSasl = 10, AuthenticationSaslContinue = 11, AuthenticationSaslFinal = 12;

    private byte[] _buffer = new byte[16 * 1024];
    private int _start;
    private int _end;

    /// <summary>Sends <paramref name="bytes"/> (any messages, broken ones included) in one write.</summary>
    public async Task WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken = default)
    {
        await stream.WriteAsync(bytes, cancellationToken);
        await stream.FlushAsync(cancellationToken);
    }

    /// <summary>The next whole backend message (type, length and body); null when the server closed the connection between messages.</summary>
    public async Task<byte[]?> ReadMessageAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var available = _buffer.AsSpan(_start, _end - _start);
            if (available.Length >= MessageFramer.HeaderLength)
            {
                var whole = MessageFramer.WholeLength(available, LengthWord.CountsItself);
                if (whole < MessageFramer.HeaderLength || whole > int.MaxValue)
                    throw new InvalidDataException($"invalid length in a backend message of type '{(char)available[0]}'");
                if (available.Length >= whole)
                {
                    var message = available[..(int)whole].ToArray();
                    _start += (int)whole;
                    return message;
                }
                MakeRoom((int)whole);
            }
            if (!await FillAsync(cancellationToken))
                return _end == _start ? null : throw new EndOfStreamException("connection closed inside a message");
        }
    }

    /// <summary>One byte outside message framing (the answer to an SSLRequest); null when the server closed the connection.</summary>
    public async Task<byte?> ReadByteAsync(CancellationToken cancellationToken = default)
    {
        if (_end == _start && !await FillAsync(cancellationToken))
            return null;
        return _buffer[_start++];
    }

    /// <summary>Messages up to and including the next ReadyForQuery; fewer when the server closes first (after a FATAL).</summary>
    public async Task<List<byte[]>> ReadUntilReadyAsync(CancellationToken cancellationToken = default)
    {
        var messages = new List<byte[]>();
        while (await ReadMessageAsync(cancellationToken) is { } message)
        {
            messages.Add(message);
            if (message[0] == (byte)BackendCode.ReadyForQuery)
                break;
        }
        return messages;
    }

    /// <summary>
    /// Sends a protocol 3.0 StartupMessage with <paramref name="parameters"/> and answers the authentication it is asked for
    /// (none, or SCRAM-SHA-256 with <paramref name="password"/>); the replies up to ReadyForQuery, or up to the close after an error.
    /// </summary>
    public async Task<List<byte[]>> StartupAsync(IEnumerable<(string Name, string Value)> parameters, string? password, CancellationToken cancellationToken = default)
    {
        await WriteAsync(StartupMessage(parameters), cancellationToken);
        var replies = new List<byte[]>();
        ScramClient? scram = null;
        while (await ReadMessageAsync(cancellationToken) is { } message)
        {
            replies.Add(message);
            if (message[0] == (byte)BackendCode.ReadyForQuery)
                break;
            if (message[0] != (byte)BackendCode.Authentication)
                continue;
            var body = message.AsSpan(MessageFramer.HeaderLength);
            switch (BinaryPrimitives.ReadInt32BigEndian(body))
            {
                case AuthenticationOk:
                    break;
                case AuthenticationSasl:
                    scram = new ScramClient(password ?? throw new InvalidOperationException("the server asks for a password and none is configured"));
                    var first = scram.First();
                    await WriteAsync(PasswordMessage([.. Encoding.UTF8.GetBytes(ScramExchange.Mechanism + "\0"), .. BigEndian(first.Length), .. first]), cancellationToken);
                    break;
                case AuthenticationSaslContinue:
                    await WriteAsync(PasswordMessage(scram!.Final(Encoding.UTF8.GetString(body[4..]))), cancellationToken);
                    break;
                case AuthenticationSaslFinal when !scram!.Verify(Encoding.UTF8.GetString(body[4..])):
                    throw new InvalidOperationException("the server's SCRAM signature did not verify");
                case AuthenticationSaslFinal:
                    break;
                case var other:
                    throw new NotSupportedException($"authentication method {other} is not supported by ZeroPg's own client");
            }
        }
        return replies;
    }

    /// <summary>Runs <paramref name="sql"/> as one simple Query: the whole reply, up to ReadyForQuery.</summary>
    public async Task<List<byte[]>> QueryAsync(string sql, CancellationToken cancellationToken = default)
    {
        var text = Encoding.UTF8.GetBytes(sql);
        await WriteAsync(Typed(FrontendCode.Query, [.. text, 0]), cancellationToken);
        return await ReadUntilReadyAsync(cancellationToken);
    }

    /// <summary>Terminate, for a polite close.</summary>
    public Task TerminateAsync(CancellationToken cancellationToken = default) => WriteAsync(Typed(FrontendCode.Terminate, []), cancellationToken);

    /// <summary>A StartupMessage: length, protocol version, name/value pairs, a final zero.</summary>
    public static byte[] StartupMessage(IEnumerable<(string Name, string Value)> parameters, int version = 3 << 16)
    {
        var pairs = new List<byte>();
        foreach (var (name, value) in parameters)
            pairs.AddRange(Encoding.UTF8.GetBytes($"{name}\0{value}\0"));
        pairs.Add(0);
        var packet = new byte[8 + pairs.Count];
        BinaryPrimitives.WriteInt32BigEndian(packet, packet.Length);
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(4), version);
        pairs.CopyTo(packet, 8);
        return packet;
    }

    /// <summary>A typed frontend message: type byte, length counting itself, body.</summary>
    public static byte[] Typed(FrontendCode code, ReadOnlySpan<byte> body)
    {
        var message = new byte[MessageFramer.HeaderLength + body.Length];
        message[0] = (byte)code;
        BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(1), 4 + body.Length);
        body.CopyTo(message.AsSpan(MessageFramer.HeaderLength));
        return message;
    }

    private static byte[] PasswordMessage(ReadOnlySpan<byte> body) => Typed(FrontendCode.PasswordMessage, body);

    private static byte[] BigEndian(int value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        return bytes;
    }

    /// <summary>Room in the buffer for a whole message of <paramref name="wholeLength"/> bytes from the read position.</summary>
    private void MakeRoom(int wholeLength)
    {
        if (_buffer.Length - _start >= wholeLength)
            return;
        var bigger = wholeLength > _buffer.Length ? new byte[Math.Max(wholeLength, _buffer.Length * 2)] : _buffer;
        Buffer.BlockCopy(_buffer, _start, bigger, 0, _end - _start);
        _end -= _start;
        _start = 0;
        _buffer = bigger;
    }

    private async Task<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_start == _end)
            _start = _end = 0;
        else if (_end == _buffer.Length)
            MakeRoom(_end - _start + 1); // compacts, or grows a buffer a message's start already fills
        var read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
        _end += read;
        return read > 0;
    }
}
