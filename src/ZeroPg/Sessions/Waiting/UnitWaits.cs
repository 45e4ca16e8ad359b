using ZeroPg.Protocol;
using ZeroPg.Sql;

namespace ZeroPg.Sessions.Waiting;

/// <summary>
/// The <see cref="QueueLimits"/> of a unit about to queue for the engine: the client's lock_timeout and statement_timeout
/// (its settings as <see cref="SessionSettings"/> holds them: startup options, SET, set_config; then the SET LOCALs of its
/// deferred transaction, <see cref="DeferredTransaction"/>), changed by the unit's own leading SETs, as they stand at its
/// first statement that is not BEGIN or such a SET. Thread: the session.
/// </summary>
internal sealed class UnitWaits(SessionSettings settings, DeferredTransaction deferred, ProtocolState state, StatementMapping statements)
{
    /// <summary>The limits of the first <paramref name="count"/> messages of <paramref name="client"/>; null when nothing limits the wait.</summary>
    public QueueLimits? Of(ClientBatch client, int count)
    {
        var lockTimeout = Milliseconds(settings.Values.GetValueOrDefault("lock_timeout"));
        var statementTimeout = Milliseconds(settings.Values.GetValueOrDefault("statement_timeout"));
        var deferredSets = deferred.Settings;
        for (var i = 0; i < deferredSets.Count; i++)
            Apply(deferredSets[i].Name, deferredSets[i].Value, ref lockTimeout, ref statementTimeout);
        var opensBlock = state.Transaction == TransactionState.BeginDeferred;
        var messages = client.Messages;
        for (var i = 0; i < count; i++)
        {
            if (StatementOf(messages, i) is not { } sql)
                continue;
            foreach (var (start, end) in sql.Statements)
            {
                var statement = new StatementWaits(sql, start, end);
                if (statement.IsEmpty)
                    continue;
                switch (statement.Kind)
                {
                    case StatementKind.Begin:
                        opensBlock = true;
                        continue;
                    case StatementKind.TimeoutSetting:
                        statement.TryTimeoutSetting(out var name, out var value, out _);
                        Apply(name, value, ref lockTimeout, ref statementTimeout);
                        continue;
                }
                var noWait = statement.NoWaitMessage();
                if (statement.SkipsLocked)
                    lockTimeout = 0; // it never waits for a row lock on Postgres: it waits for the engine only as long as statement_timeout allows
                if (lockTimeout <= 0 && statementTimeout <= 0 && noWait is null)
                    return null;
                return new QueueLimits(lockTimeout > 0 ? TimeSpan.FromMilliseconds(lockTimeout) : null,
                    statementTimeout > 0 ? TimeSpan.FromMilliseconds(statementTimeout) : null, noWait, opensBlock);
            }
        }
        return null; // only BEGIN and settings: they take no lock
    }

    /// <summary>The unit failed in the queue: a transaction block it was in (or opened) is aborted, as the statement's error aborts it in Postgres.</summary>
    public void Failed(QueueLimits limits)
    {
        deferred.Clear();
        if (limits.OpensBlock || state.Transaction == TransactionState.BeginDeferred)
            state.FailedInQueue();
    }

    /// <summary>The SQL message <paramref name="i"/> runs: a Query's, or a Bind's statement (parsed earlier in the unit or before).</summary>
    private SqlAnalysis? StatementOf(IReadOnlyList<ClientMessage> messages, int i)
    {
        var message = messages[i];
        if (message.Code == FrontendCode.Query)
            return message.Sql;
        if (message.Code != FrontendCode.Bind)
            return null;
        for (var j = i - 1; j >= 0; j--)
        {
            if (messages[j] is { Code: FrontendCode.Parse } parse && parse.StatementName == message.StatementName)
                return parse.Sql;
        }
        return statements.StatementSql(message.StatementName!);
    }

    private void Apply(string name, string? value, ref double lockTimeout, ref double statementTimeout)
    {
        // RESET / DEFAULT: back to the session's value (the server's default, 0, when the session set none).
        var ms = value is null ? Milliseconds(settings.Values.GetValueOrDefault(name)) : Milliseconds(value);
        if (name == "lock_timeout")
            lockTimeout = ms;
        else
            statementTimeout = ms;
    }

    private static double Milliseconds(string? value) => value is not null && SessionTimeouts.TryParseMilliseconds(value, out var ms) ? ms : 0;
}
