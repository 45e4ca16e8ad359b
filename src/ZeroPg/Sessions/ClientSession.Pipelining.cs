using System.Buffers.Binary;
using System.Text;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Frontend;

namespace ZeroPg.Sessions;

/// <summary>
/// Between one client's reply and the next client's request the engine would sit idle for a thread
/// hop or two. A unit that is certain to leave the engine session as it found it (see
/// <see cref="PipelineSafety"/>) gives the engine up as soon as it is written to the host, so the next
/// client's unit is already queued there when the engine finishes; replies come back in order.
/// A plain COMMIT or ROLLBACK qualifies too: whatever its outcome, the transaction block is over.
/// So does an extended-protocol unit of such statements ending in Sync (Npgsql sends every command so).
/// </summary>
internal sealed partial class ClientSession
{
    private bool CanPipeline(ReadOnlySpan<byte> messages, TransactionStatus before)
    {
        if (_engineExtendedOpen || _extendedOpenAtUnitEnd || _copy is not null
            || _beginDeferred || _settingsDirty || _tempDirty || _cleaningUp)
            return false;
        if (_services.Scheduler.QueueLength == 0)
            return false; // nobody to hand the engine to: keeping it leaves the unit cancellable by an engine restart
        if (messages.Length < 6)
            return false;
        if ((FrontendCode)messages[0] != FrontendCode.Query)
        {
            if (before == TransactionStatus.Idle)
                return IsSafeExtendedUnit(messages);
            return !_usedAdvisoryLocks && BoundStatementSql(messages, out _) is { } bound && Sql.SqlAnalysis.Of(bound).IsPlainTransactionEnd;
        }
        if (1 + BinaryPrimitives.ReadInt32BigEndian(messages[1..]) != messages.Length)
            return false;
        var sql = Sql.SqlAnalysis.Of(QueryMessage.ReadSql(messages[5..]));
        return before == TransactionStatus.Idle
            ? sql.IsPipelineSafe
            : !_usedAdvisoryLocks && sql.IsPlainTransactionEnd; // a rollback may free advisory locks: waiters are told after the reply
    }

    /// <summary>Parse/Bind/Describe/Execute ending in Sync, where every statement run is safe: each Sync ends its implicit transaction.</summary>
    private bool IsSafeExtendedUnit(ReadOnlySpan<byte> messages)
    {
        Dictionary<string, bool>? parsedInUnit = null; // most units bind statements parsed earlier
        var offset = 0;
        var code = (FrontendCode)0;
        while (offset < messages.Length)
        {
            code = (FrontendCode)messages[offset];
            var length = 1 + BinaryPrimitives.ReadInt32BigEndian(messages[(offset + 1)..]);
            var body = messages.Slice(offset + 5, length - 5);
            switch (code)
            {
                case FrontendCode.Parse:
                    var parse = ParseMessage.Read(body);
                    (parsedInUnit ??= new(StringComparer.Ordinal))[Encoding.UTF8.GetString(parse.StatementName)] =
                        Sql.SqlAnalysis.Of(Encoding.UTF8.GetString(parse.Sql)).IsPipelineSafe;
                    break;
                case FrontendCode.Bind:
                    if (!IsSafeStatement(Encoding.UTF8.GetString(BindMessage.Read(body).StatementName), parsedInUnit))
                        return false;
                    break;
                case FrontendCode.Describe:
                case FrontendCode.Execute:
                case FrontendCode.Sync:
                    break;
                default:
                    return false;
            }
            offset += length;
        }
        return code == FrontendCode.Sync;
    }

    private bool IsSafeStatement(string name, Dictionary<string, bool>? parsedInUnit)
    {
        if (parsedInUnit is not null && parsedInUnit.TryGetValue(name, out var safe))
            return safe;
        if (name.Length > 0)
            return _statements.TryGet(name, out var statement) && statement.IsPipelineSafe;
        return _statements.LastUnnamedParse is { } unnamed
            && Sql.SqlAnalysis.Of(Encoding.UTF8.GetString(ParseMessage.Read(unnamed.AsSpan(5)).Sql)).IsPipelineSafe;
    }
}
