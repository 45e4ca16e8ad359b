using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;
using ZeroPg.Protocol.Frontend;

namespace ZeroPg.Sessions;

/// <summary>
/// A transaction holds the shared engine from its first statement to its end, and every round trip to
/// the client in between leaves the engine idle for everyone. A plain BEGIN on its own has no effect
/// but to open the transaction, so ZeroPg answers it at once and sends it to the engine together with
/// the client's next statement: one round trip fewer under the engine's hold per transaction.
/// The transaction's start time (now()) is then the time of that next statement.
/// </summary>
internal sealed partial class ClientSession
{
    /// <summary>The client's BEGIN was answered but has not yet run in the engine.</summary>
    private bool _beginDeferred;

    /// <summary>Answers a unit that is only a plain BEGIN, outside a transaction, while this session does not hold the engine.</summary>
    private bool TryDeferBegin(ReadOnlySpan<byte> messages)
    {
        if (_status != TransactionStatus.Idle || _engineExtendedOpen || _copy is not null || _services.Scheduler.Owner == this)
            return false;
        if (messages.Length < 6)
            return false;
        if ((FrontendCode)messages[0] == FrontendCode.Query)
        {
            var length = 1 + System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(messages[1..]);
            if (length != messages.Length || length > 64 || !Sql.SqlAnalysis.Of(QueryMessage.ReadSql(messages[5..])).IsPlainBegin)
                return false;
        }
        else if ((FrontendCode)messages[0] == FrontendCode.Bind && BoundStatementSql(messages, out var describes) is { Length: <= 64 } sql && Sql.SqlAnalysis.Of(sql).IsPlainBegin)
        {
            // A prepared BEGIN (Bind, Describe, Execute, Sync): its replies in the extended protocol's order.
            EmptyMessage.Write(_output, BackendCode.BindComplete);
            if (describes)
                EmptyMessage.Write(_output, BackendCode.NoData);
        }
        else
        {
            return false;
        }
        _beginDeferred = true;
        _status = TransactionStatus.InTransaction;
        CommandComplete.Write(_output, "BEGIN");
        ReadyForQuery.Write(_output, _status);
        return true;
    }

    /// <summary>What runs in the engine for any deferred BEGIN: only the plain forms are deferred, and they are all equal to it.</summary>
    private static readonly byte[] BeginQuery = QueryBytes("BEGIN");

    private static byte[] QueryBytes(string sql)
    {
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        QueryMessage.Write(writer, sql);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Puts the deferred BEGIN at the head of the batch being rewritten; its reply is the client's already.</summary>
    private void PrependDeferredBegin()
    {
        if (!_beginDeferred)
            return;
        _engineBatch.Append(BeginQuery);
        Expect(ExpectKind.Swallow, FrontendCode.Query, onCompleted: _ => _beginDeferred = false);
    }

    /// <summary>Runs the deferred BEGIN on its own, for work that does not go through the rewrite (COPY).</summary>
    private async Task RunDeferredBeginAsync()
    {
        if (!_beginDeferred)
            return;
        await RunHousekeepingAsync("BEGIN"); // only plain forms are deferred, all equal to this
        _beginDeferred = false;
    }
}
