namespace ZeroPg.Sessions;

/// <summary>
/// Brings the engine session to this client's state at the head of the client's own batch, the way the
/// deferred BEGIN always went: what each session object adds (<see cref="ISessionState.WritePreamble"/>: the
/// differences of its settings, its temp relations renamed back under their names, ...) run as the engine's role,
/// then the client's role, then the deferred BEGIN (or the failed transaction an engine restart left the client in),
/// each a Query whose reply is swallowed (<see cref="ReplyPlan.PreambleQueries"/>). No engine call of its own:
/// switching between clients costs no extra round trip. What the preamble changes in the shared
/// <see cref="EngineSessionState"/> is committed when the batch is sent (<see cref="EngineBatch.Sending"/>),
/// so a batch built and then dropped (rebuilt after an extension load or an advisory install) changes nothing.
/// Thread: the session, while it holds the engine.
/// </summary>
internal sealed class EngineStateRestore(SessionServices services, SessionStates states, ProtocolState state,
    Waiting.DeferredTransaction? deferred = null)
{
    /// <summary>Fails the transaction the preamble's BEGIN opened (its error is swallowed with the preamble's replies).</summary>
    private const string FailTransactionSql = "DO $$BEGIN RAISE EXCEPTION 'ZeroPg: transaction lost in an engine restart'; END$$";

    /// <summary>
    /// Writes what the engine session lacks of this client's state into the empty <paramref name="batch"/>. With
    /// <paramref name="guarded"/>, and the engine session outside a transaction block of the client's, the objects' statements
    /// and the role switch run as one Query in a transaction block of ZeroPg's own (<see cref="GuardedSql"/>).
    /// </summary>
    public void WritePreamble(EngineBatch batch, bool guarded = false)
    {
        var engine = services.EngineState;
        var preamble = states.Preamble(engine);
        // The objects' statements run as the engine's superuser; the client's identity comes last.
        var asEngineRole = engine.SessionAuthorization is not null && preamble.Statements.Count > 0;
        var statements = preamble.Statements;
        var identity = preamble.Identity;
        var switchIdentity = (asEngineRole ? null : engine.SessionAuthorization) != identity;
        if (guarded && (statements.Count > 0 || switchIdentity) && state.EngineUntouched)
        {
            batch.AddGuardedPreambleQuery(GuardedSql(asEngineRole, statements, switchIdentity, identity));
        }
        else
        {
            if (asEngineRole)
                batch.AddPreambleQuery(SwitchSql(null));
            for (var i = 0; i < statements.Count; i++) // a loop over indexes: a foreach over the interface allocates, and this runs for every unit
                batch.AddPreambleQuery(statements[i]);
            if (switchIdentity)
                batch.AddPreambleQuery(SwitchSql(identity));
        }
        var begin = state.Transaction == TransactionState.BeginDeferred;
        if (begin)
        {
            batch.AddPreambleQuery(deferred?.BeginSql ?? "BEGIN"); // plain forms, all equal to this, or an isolation level alone
            foreach (var set in deferred?.Sql ?? [])
                batch.AddPreambleQuery(set); // SET LOCALs answered with it
        }
        var failed = state.Transaction == TransactionState.FailedDeferred;
        if (failed)
        {
            batch.AddPreambleQuery("BEGIN");
            batch.AddPreambleQuery(FailTransactionSql);
        }
        if (preamble.Statements.Count == 0 && !begin && !failed && !asEngineRole && !switchIdentity)
            return;
        batch.Sending += () =>
        {
            preamble.Sent();
            if (asEngineRole || switchIdentity)
                engine.SessionAuthorization = identity;
            if (begin)
            {
                state.BeginSent();
                deferred?.Clear();
            }
            if (failed)
                state.FailedSent();
        };
    }

    /// <summary>
    /// The restore as one Query in a transaction block of its own (begun by the Query before it), READ WRITE whatever the sessions' defaults (a client's
    /// <c>SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY</c> made the renames of its temp tables fail, and its statements
    /// read another client's). An error anywhere in it (a statement_timeout another client left, an interrupt, a setting the
    /// engine no longer takes) skips the rest of the Query, COMMIT included, and leaves the block aborted: the client's
    /// statements behind it fail there without effect instead of running in another client's state.
    /// </summary>
    private static string GuardedSql(bool asEngineRole, IReadOnlyList<string> statements, bool switchIdentity, string? identity)
    {
        var sql = new System.Text.StringBuilder(); // after the BEGIN READ WRITE Query of its own (EngineBatch.AddGuardedPreambleQuery)
        if (asEngineRole)
            sql.Append(SwitchSql(null)).Append(';');
        for (var i = 0; i < statements.Count; i++)
            sql.Append(statements[i]).Append(';');
        if (switchIdentity)
            sql.Append(SwitchSql(identity)).Append(';');
        return sql.Append("COMMIT").ToString();
    }

    /// <summary>What a batch's preamble changes, as it is before the batch is sent: <see cref="Undo"/> puts it back.</summary>
    public Mark Take() => new(services.EngineState.Take(), state.Transaction, deferred?.Save());

    /// <summary>
    /// The batch's guarded preamble failed and its block was rolled back (<see cref="ReplyRouter.PreambleFailure"/>): the engine
    /// session and the client's deferred transaction are as they were before it (the settings taken as unknown).
    /// </summary>
    public void Undo(Mark mark)
    {
        services.EngineState.Restore(mark.Engine);
        state.PreambleRolledBack(mark.Transaction);
        if (mark.Deferred is { } saved)
            deferred?.Restore(saved);
    }

    public sealed record Mark(EngineSessionState.Snapshot Engine, TransactionState Transaction,
        (string? BeginSql, (string Name, string? Value, string Sql)[] Sets)? Deferred);

    /// <summary>
    /// Adds the switch back to the engine's superuser role when a client's identity is in force, for ZeroPg's own
    /// SQL that needs it (reading pg_authid, cleaning up after a client); the next client batch switches again.
    /// Only where the engine session is outside a transaction (or after the ROLLBACK ending one): a SET that a
    /// rollback undoes would leave <see cref="EngineSessionState.SessionAuthorization"/> wrong.
    /// </summary>
    public static BatchBuffer AppendEngineRole(BatchBuffer batch, EngineSessionState engine)
    {
        if (engine.SessionAuthorization is null)
            return batch;
        OwnSql.Append(batch, SwitchSql(null));
        engine.SessionAuthorization = null;
        return batch;
    }

    /// <summary>
    /// SET SESSION AUTHORIZATION to a role, or back to the engine's own (by name: PGlite's single-user
    /// session has no DEFAULT to return to).
    /// </summary>
    public static string SwitchSql(string? role)
        => "SET SESSION AUTHORIZATION \"" + (role ?? SessionIdentity.EngineRole).Replace("\"", "\"\"") + "\"";
}
