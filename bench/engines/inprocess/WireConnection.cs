using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;

namespace ZeroPg.Bench.InProcess;

/// <summary>
/// One client, as little of a Postgres server as pgbench -S needs: trust authentication, batches passed through to the one
/// engine session (so only a workload whose clients leave no session state behind is valid), and pgbench's select
/// auto-prepared as ZeroPg does it (Bind/Execute of a statement prepared once, its reply shaped as a simple Query's).
/// </summary>
internal sealed partial class WireConnection(IClientConnection client, IBatchSink engine)
{
    private static readonly Lock PrepareLock = new();
    private static byte[]? _rowDescription;
    private byte[] _reply = new byte[65536];

    [GeneratedRegex(@"^SELECT abalance FROM pgbench_accounts WHERE aid = (\d+);?$")]
    private static partial Regex PgbenchSelect();

    public async Task RunAsync()
    {
        while (true)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian((await client.ReadAsync(4)).Span);
            var code = BinaryPrimitives.ReadInt32BigEndian((await client.ReadAsync(length - 4)).Span);
            if (code is not (80877103 or 80877104)) // SSLRequest, GSSENCRequest: refused, the client goes on in plain text
                break;
            client.Send("N"u8);
        }
        client.Send(Greeting());
        var batch = new MemoryStream();
        while (true)
        {
            var header = await client.ReadAsync(5);
            var type = (char)header.Span[0];
            var length = BinaryPrimitives.ReadInt32BigEndian(header.Span[1..]);
            var body = (await client.ReadAsync(length - 4)).ToArray();
            if (type == 'X')
                return;
            if (type == 'Q' && batch.Length == 0 && AutoPrepared(body) is { } call)
            {
                engine.Post(call, client, _rowDescription);
                continue;
            }
            batch.Write(Message(type, body));
            if (type is 'Q' or 'S')
            {
                engine.Post(batch.ToArray(), client, null);
                batch.SetLength(0);
            }
        }
    }

    /// <summary>The Bind/Execute/Sync that answers pgbench's select, or null for any other statement.</summary>
    private byte[]? AutoPrepared(byte[] queryBody)
    {
        var match = PgbenchSelect().Match(Encoding.UTF8.GetString(queryBody, 0, queryBody.Length - 1));
        if (!match.Success)
            return null;
        lock (PrepareLock)
        {
            if (_rowDescription is null)
            {
                var prepare = Concat(Message('P', [.. CString("ap1"), .. CString("SELECT abalance FROM pgbench_accounts WHERE aid = $1"), 0, 1, 0, 0, 0, 23]),
                    Message('D', [(byte)'S', .. CString("ap1")]), Message('S', []));
                var length = engine.Run(prepare, ref _reply);
                _rowDescription = FindMessage(_reply.AsSpan(0, length), (byte)'T') ?? throw new InvalidOperationException("no RowDescription");
            }
        }
        var value = Encoding.ASCII.GetBytes(match.Groups[1].Value);
        var bind = Concat([0], CString("ap1"), [0, 0, 0, 1], Int32(value.Length), value, [0, 0]);
        return Concat(Message('B', bind), Message('E', [0, 0, 0, 0, 0]), Message('S', []));
    }

    private static byte[] Greeting()
    {
        var greeting = new MemoryStream();
        greeting.Write(Message('R', [0, 0, 0, 0]));
        foreach (var (name, value) in new[] { ("server_version", "18.0"), ("client_encoding", "UTF8"), ("server_encoding", "UTF8"),
                     ("DateStyle", "ISO, MDY"), ("integer_datetimes", "on"), ("standard_conforming_strings", "on"), ("TimeZone", "UTC") })
            greeting.Write(Message('S', [.. CString(name), .. CString(value)]));
        greeting.Write(Message('K', new byte[8]));
        greeting.Write(Message('Z', "I"u8.ToArray()));
        return greeting.ToArray();
    }

    private static byte[]? FindMessage(ReadOnlySpan<byte> replies, byte code)
    {
        for (var i = 0; i + 5 <= replies.Length;)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(replies[(i + 1)..]);
            if (replies[i] == code)
                return replies.Slice(i, length + 1).ToArray();
            i += length + 1;
        }
        return null;
    }

    private static byte[] Message(char code, byte[] body) => Concat([(byte)code], Int32(body.Length + 4), body);
    private static byte[] Int32(int value) { var bytes = new byte[4]; BinaryPrimitives.WriteInt32BigEndian(bytes, value); return bytes; }
    private static byte[] CString(string text) => [.. Encoding.UTF8.GetBytes(text), 0];
    private static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(part => part)];
}
