using ZeroPg.Protocol;

namespace ZeroPg.Sessions;

/// <summary>
/// Between one client's reply and the next client's request the engine would sit idle for a thread hop
/// or two. A unit that is certain to leave the engine session as it found it (<see cref="Sql.SqlAnalysis.IsPipelineSafe"/>)
/// hands the engine over as soon as it is written to the host (<see cref="EngineScheduler.HandOver"/>), so the next client's
/// unit is already queued there when the engine finishes; replies come back in order. A plain COMMIT or ROLLBACK qualifies too:
/// whatever its outcome, the transaction block is over. So does an extended-protocol unit of such
/// statements ending in Sync (Npgsql sends every command so). Thread: the session.
/// </summary>
internal sealed class Pipelining(ProtocolState state, SessionSettings settings, TempRelations temp, AdvisoryLocks advisory,
    StatementMapping statements)
{
    private readonly Dictionary<string, bool> _parsedInUnit = new(StringComparer.Ordinal);

    /// <summary>True when the first <paramref name="count"/> messages of <paramref name="client"/>, run from <paramref name="before"/>, may hand the engine on at once.</summary>
    public bool CanPipeline(ClientBatch client, int count, TransactionStatus before, bool sequenceOpenAfter)
    {
        if (!state.MayPipeline || sequenceOpenAfter || settings.Dirty || temp.Dirty || count == 0)
            return false;
        if (client.Messages[0].Code != FrontendCode.Query)
        {
            if (before == TransactionStatus.Idle)
                return IsSafeExtendedUnit(client, count);
            // A rollback may free advisory locks: waiters are told after the reply.
            return !advisory.Used && UnitShape.BoundStatement(client.Messages, count, statements, out _) is { IsPlainTransactionEnd: true };
        }
        if (UnitShape.SingleQuery(client.Messages, count) is not { } sql)
            return false;
        return before == TransactionStatus.Idle ? sql.IsPipelineSafe : !advisory.Used && sql.IsPlainTransactionEnd;
    }

    /// <summary>Parse/Bind/Describe/Execute ending in Sync, where every statement run is safe: each Sync ends its implicit transaction.</summary>
    private bool IsSafeExtendedUnit(ClientBatch client, int count)
    {
        _parsedInUnit.Clear(); // most units bind statements parsed earlier
        for (var i = 0; i < count; i++)
        {
            var message = client.Messages[i];
            switch (message.Code)
            {
                case FrontendCode.Parse:
                    _parsedInUnit[message.StatementName!] = message.Sql!.IsPipelineSafe;
                    break;
                case FrontendCode.Bind:
                    if (!IsSafeStatement(message.StatementName!))
                        return false;
                    break;
                case FrontendCode.Describe:
                case FrontendCode.Execute:
                case FrontendCode.Sync:
                    break;
                default:
                    return false;
            }
        }
        return client.Messages[count - 1].Code == FrontendCode.Sync;
    }

    private bool IsSafeStatement(string name)
    {
        if (_parsedInUnit.TryGetValue(name, out var safe))
            return safe;
        return statements.StatementSql(name) is { IsPipelineSafe: true };
    }
}
