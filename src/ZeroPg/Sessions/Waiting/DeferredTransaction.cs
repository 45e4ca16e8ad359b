using System.IO.Pipelines;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;
using ZeroPg.Protocol.Frontend;
using ZeroPg.Sql;

namespace ZeroPg.Sessions.Waiting;

/// <summary>
/// A transaction ZeroPg keeps on paper while another client's transaction holds the engine, so the client's timeouts count
/// from its first statement that may wait for a lock, as on Postgres (<see cref="UnitWaits"/>):
/// a run of units made only of a plain BEGIN and SET LOCAL lock_timeout / statement_timeout (Npgsql sends its BeginTransaction
/// with the next command) is answered here, and its SET LOCALs follow the deferred BEGIN at the head of the client's next batch
/// (<see cref="EngineStateRestore"/>); a transaction that failed before reaching the engine (a timeout in the queue) answers
/// its statements 25P02 and its COMMIT / ROLLBACK here, without queueing for an engine that holds nothing of it.
/// Thread: the session.
/// </summary>
internal sealed class DeferredTransaction(ProtocolState state, StatementMapping statements, PipeWriter output,
    SessionSettings? settings = null, Func<bool>? engineBusy = null)
{
    private readonly List<(string Name, string? Value, string Sql)> _sets = [];

    /// <summary>The deferred SET LOCALs, in order (a list, not a query over it: it is read for every unit).</summary>
    public IReadOnlyList<(string Name, string? Value, string Sql)> Settings => _sets;

    /// <summary>SQL to run right after the deferred BEGIN.</summary>
    public IEnumerable<string> Sql => _sets.Select(s => s.Sql);

    /// <summary>What <see cref="Clear"/> forgets when the deferred BEGIN is sent, kept in case that batch is rolled back (<see cref="Restore"/>).</summary>
    public (string? BeginSql, (string Name, string? Value, string Sql)[] Sets) Save() => (BeginSql, [.. _sets]);

    /// <summary>The batch that sent the deferred BEGIN was rolled back before it took effect: it is deferred again, as it was.</summary>
    public void Restore((string? BeginSql, (string Name, string? Value, string Sql)[] Sets) saved)
    {
        _sets.Clear();
        _sets.AddRange(saved.Sets);
        BeginSql = saved.BeginSql;
    }

    public void Clear()
    {
        _sets.Clear();
        BeginSql = null;
    }

    /// <summary>The BEGIN to send for the deferred one when it is not plain (Npgsql's BEGIN TRANSACTION ISOLATION LEVEL READ COMMITTED).</summary>
    public string? BeginSql { get; private set; }

    /// <summary>
    /// Answers the leading units of the first <paramref name="count"/> messages that need no engine: a BEGIN (plain or with an
    /// isolation level), SET LOCAL lock_timeout / statement_timeout in a deferred transaction, and in a transaction that failed
    /// before reaching the engine 25P02 or its end. Returns how many messages were answered (0: none; the rest go on as ever).
    /// </summary>
    public int AnswerLeading(ClientBatch client, int count)
    {
        var answered = 0;
        while (answered < count && !state.SequenceOpenInEngine && !state.InCopy && Unit(client.Messages, answered, count) is { } unit)
        {
            var sql = unit.Sql;
            if (state.Transaction == TransactionState.FailedDeferred)
            {
                if (sql.IsPlainTransactionEnd)
                {
                    state.Ready(TransactionStatus.Idle);
                    Clear();
                    WriteReplies(client, unit.Start, unit.End, "ROLLBACK");
                    return unit.End;
                }
                ErrorResponse.Write(output, PgError.Error(SqlState.InFailedSqlTransaction, "current transaction is aborted, commands ignored until end of transaction block"));
                ReadyForQuery.Write(output, state.Status);
            }
            else if (state.CanDeferBegin && sql.IsDeferrableBegin)
            {
                state.DeferBegin();
                BeginSql = sql.IsPlainBegin ? null : sql.Sql;
                WriteReplies(client, unit.Start, unit.End, sql.BeginTag);
            }
            else if (state.Transaction == TransactionState.BeginDeferred && IsTimeoutSet(sql, local: true))
            {
                Defer(sql);
                WriteReplies(client, unit.Start, unit.End, "SET");
            }
            else if (state.Transaction == TransactionState.Idle && settings is not null && engineBusy?.Invoke() == true && IsTimeoutSet(sql, local: false))
            {
                // A session SET of a timeout while another client holds the engine: the client's at once, in the engine with its next unit.
                var (start, end) = sql.Statements[0];
                new StatementWaits(sql, start, end).TryTimeoutSetting(out var name, out var value, out _);
                settings.SetLater(name, value);
                WriteReplies(client, unit.Start, unit.End, "SET");
            }
            else
            {
                break;
            }
            answered = unit.End;
        }
        return answered;
    }

    private void Defer(SqlAnalysis sql)
    {
        var (start, end) = sql.Statements[0];
        new StatementWaits(sql, start, end).TryTimeoutSetting(out var name, out var value, out _);
        _sets.Add((name, value, sql.Sql));
    }

    /// <summary>Writes what Postgres answers a unit that succeeded with <paramref name="tag"/>.</summary>
    private void WriteReplies(ClientBatch client, int start, int end, string tag)
    {
        for (var i = start; i < end; i++)
        {
            var message = client.Messages[i];
            switch (message.Code)
            {
                case FrontendCode.Parse:
                    statements.ParsedLocally(client.Bytes(message).ToArray(), message.Sql!);
                    EmptyMessage.Write(output, BackendCode.ParseComplete);
                    break;
                case FrontendCode.Bind:
                    EmptyMessage.Write(output, BackendCode.BindComplete);
                    break;
                case FrontendCode.Describe:
                    EmptyMessage.Write(output, BackendCode.NoData);
                    break;
                case FrontendCode.Execute or FrontendCode.Query:
                    CommandComplete.Write(output, tag);
                    break;
            }
            if (message.Code is FrontendCode.Sync or FrontendCode.Query)
                ReadyForQuery.Write(output, state.Status);
        }
    }

    /// <summary>
    /// The unit starting at message <paramref name="start"/>: one Query of one statement, or [Parse unnamed] Bind (unnamed portal,
    /// no parameters) [Describe of that portal] Execute Sync; its end and SQL, or null for any other shape.
    /// </summary>
    private (int Start, int End, SqlAnalysis Sql)? Unit(IReadOnlyList<ClientMessage> messages, int start, int count)
    {
        var first = messages[start];
        if (first.Code == FrontendCode.Query)
            return first.Sql is { } query && OneStatement(query) ? (start, start + 1, query) : null;
        var i = start;
        SqlAnalysis? sql = null;
        if (messages[i] is { Code: FrontendCode.Parse, StatementName.Length: 0 } parse)
        {
            sql = parse.Sql;
            i++;
        }
        if (i >= count || messages[i] is not { Code: FrontendCode.Bind, StatementName.Length: 0, PortalName.Length: 0, BindsNoParameters: true })
            return null;
        sql ??= statements.StatementSql("");
        i++;
        if (i < count && messages[i] is { Code: FrontendCode.Describe, Target: TargetedMessage.Portal, PortalName.Length: 0 })
            i++;
        if (i + 1 >= count || messages[i] is not { Code: FrontendCode.Execute, PortalName.Length: 0 } || messages[i + 1].Code != FrontendCode.Sync)
            return null;
        return sql is not null && OneStatement(sql) ? (start, i + 2, sql) : null;
    }

    private static bool OneStatement(SqlAnalysis sql)
        => sql.IsWellFormed && sql.NonEmptyStatementCount == 1 && sql.Statements[0].Start < sql.Statements[0].End;

    /// <summary>SET [LOCAL | SESSION] lock_timeout / statement_timeout to a value Postgres takes (so the engine cannot refuse it later).</summary>
    private static bool IsTimeoutSet(SqlAnalysis sql, bool local)
    {
        var (start, end) = sql.Statements[0];
        return new StatementWaits(sql, start, end).TryTimeoutSetting(out _, out var value, out var isLocal) && isLocal == local && sql.Tokens[start].IsWord(sql.Sql, "SET")
            && value is not null && SessionTimeouts.TryParseMilliseconds(value, out var ms) && ms is >= 0 and <= int.MaxValue;
    }
}
