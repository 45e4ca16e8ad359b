using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;
using ZeroPg.Protocol.Frontend;

namespace ZeroPg.Bench.InProcess;

/// <summary>
/// One client, as little of a Postgres server as pgbench -S needs: trust authentication, batches passed through to the one
/// engine session (so only a workload whose clients leave no session state behind is valid), and pgbench's select
/// auto-prepared as ZeroPg does it (Bind/Execute of a statement prepared once, its reply shaped as a simple Query's).
/// Messages are written with ZeroPg's own writers (src/ZeroPg/Protocol).
/// </summary>
internal sealed partial class WireConnection(IClientConnection client, IBatchSink engine)
{
    private static readonly Lock PrepareLock = new();
    private static byte[]? _rowDescription;
    private static readonly byte[] Statement = "ap1"u8.ToArray();

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
        var batch = new ArrayBufferWriter<byte>();
        var header = new byte[MessageFramer.HeaderLength];
        while (true)
        {
            (await client.ReadAsync(header.Length)).Span.CopyTo(header);
            var code = (FrontendCode)header[0];
            var body = (await client.ReadAsync(BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(1)) - 4)).Span;
            if (code == FrontendCode.Terminate)
                return;
            if (code == FrontendCode.Query && batch.WrittenCount == 0 && AutoPrepared(body) is { } call)
            {
                engine.Post(call, new AutoPreparedReply(client, _rowDescription!));
                continue;
            }
            batch.Write(header);
            batch.Write(body);
            if (code is FrontendCode.Query or FrontendCode.Sync)
            {
                engine.Post(batch.WrittenSpan.ToArray(), client);
                batch.ResetWrittenCount();
            }
        }
    }

    /// <summary>The Bind/Execute/Sync that answers pgbench's select, or null for any other statement.</summary>
    private byte[]? AutoPrepared(ReadOnlySpan<byte> queryBody)
    {
        var match = PgbenchSelect().Match(Encoding.UTF8.GetString(queryBody[..^1]));
        if (!match.Success)
            return null;
        lock (PrepareLock)
        {
            if (_rowDescription is null)
            {
                var prepare = new ArrayBufferWriter<byte>();
                ParseMessage.Write(prepare, Statement, "SELECT abalance FROM pgbench_accounts WHERE aid = $1"u8, [0, 1, 0, 0, 0, 23]); // one int4
                TargetedMessage.Write(prepare, FrontendCode.Describe, TargetedMessage.Statement, Statement);
                EmptyFrontendMessage.Write(prepare, FrontendCode.Sync);
                var reply = new CapturedReply();
                engine.Post(prepare.WrittenSpan.ToArray(), reply);
                foreach (var message in new MessageReader(reply.Wait()))
                {
                    if (message.Backend == BackendCode.RowDescription)
                        _rowDescription = message.Bytes.ToArray();
                }
                if (_rowDescription is null)
                    throw new InvalidOperationException("no RowDescription");
            }
        }
        var call = new ArrayBufferWriter<byte>(64);
        BindMessage.WriteText(call, [], Statement, [match.Groups[1].Value]);
        ExecuteMessage.Write(call, [], 0);
        EmptyFrontendMessage.Write(call, FrontendCode.Sync);
        return call.WrittenSpan.ToArray();
    }

    private static byte[] Greeting()
    {
        var greeting = new ArrayBufferWriter<byte>();
        AuthenticationOk.Write(greeting);
        foreach (var (name, value) in new[] { ("server_version", "18.0"), ("client_encoding", "UTF8"), ("server_encoding", "UTF8"),
                     ("DateStyle", "ISO, MDY"), ("integer_datetimes", "on"), ("standard_conforming_strings", "on"), ("TimeZone", "UTC") })
            ParameterStatus.Write(greeting, name, value);
        BackendKeyData.Write(greeting, 0, 0);
        ReadyForQuery.Write(greeting, TransactionStatus.Idle);
        return greeting.WrittenSpan.ToArray();
    }
}
