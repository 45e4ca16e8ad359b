using ZeroPg.Protocol;
using ZeroPg.Protocol.Frontend;
using ZeroPg.Sql;

namespace ZeroPg.Sessions;

/// <summary>
/// One client's side of auto-prepare: a simple Query that can run prepared with the same meaning
/// (<see cref="SqlAnalysis.TryParameterize"/>) and ran once without error runs through a statement ZeroPg
/// prepared in the engine (<see cref="Statements.AutoStatements"/>): Parse (first time only), Bind with the
/// literals' values as text, Describe, Execute and Sync, with the replies a Query would not get
/// (ParseComplete, BindComplete, NoData) dropped. The client sees exactly the reply of its Query.
/// Thread: the session.
/// </summary>
internal sealed class AutoPrepare(SessionServices services, SessionSettings settings, TempRelations temp) : ISessionState
{
    /// <summary>This transaction changed the schema: prepare nothing more in it, and forget all auto statements when it ends (a rollback undoes the change).</summary>
    private bool _schemaChangedInTransaction;

    /// <summary>The auto-prepared run of the unit failed before running anything: run it again as sent.</summary>
    public bool RunPlainOnce { get; set; }

    /// <summary>
    /// Writes <paramref name="sql"/> as an auto-prepared run and returns true; or returns false to send it
    /// as a plain Query, with <paramref name="onPlainCompleted"/> to call once it has run.
    /// </summary>
    public bool TryWrite(EngineBatch batch, SqlAnalysis sql, TransactionStatus status, out Action<bool>? onPlainCompleted)
    {
        onPlainCompleted = null;
        if (!services.Options.AutoPrepare)
            return false;
        if (!sql.TryParameterize(out var query))
        {
            NoteSchemaChange(sql);
            return false;
        }
        // A client's own temp tables shadow tables by name, and a shared plan would not see them; settings
        // changed but not yet read back would make the key below stale.
        if (RunPlainOnce || status == TransactionStatus.Failed || _schemaChangedInTransaction || temp.Count > 0 || temp.Dirty
            || settings.Dirty || !batch.Effects.IsEmpty)
            return false;
        var catalog = services.Statements;
        var auto = catalog.Auto;
        var key = settings.AutoPrepareKey(query.Sql);
        var statement = auto.Find(key, query.Sql);
        if (statement is null)
        {
            onPlainCompleted = ok =>
            {
                if (ok)
                    auto.RanOnce(key);
            };
            return false;
        }
        foreach (var name in auto.TakeClosings())
        {
            TargetedMessage.Write(batch.Buffer, FrontendCode.Close, TargetedMessage.Statement, name);
            batch.Plan.Expect(ExpectKind.Swallow, FrontendCode.Close);
        }
        if (!catalog.IsPrepared(statement))
        {
            catalog.WritePrepare(batch, statement, ExpectKind.Swallow, ok =>
            {
                if (!ok)
                    auto.Refuse(key);
            });
        }
        BindMessage.WriteText(batch.Buffer, [], statement.EngineNameBytes, query.Values);
        var retryable = status == TransactionStatus.Idle; // a deferred BEGIN makes it InTransaction too
        batch.Plan.Expect(retryable ? ExpectKind.BindRetryable : ExpectKind.Swallow, FrontendCode.Bind, onCompleted: ok =>
        {
            if (!ok)
                auto.Drop(key); // e.g. "cached plan must not change result type": prepare it afresh next time
        });
        TargetedMessage.Write(batch.Buffer, FrontendCode.Describe, TargetedMessage.Portal, []);
        batch.Plan.Expect(ExpectKind.DescribeForQuery, FrontendCode.Describe);
        ExecuteMessage.Write(batch.Buffer, [], 0);
        batch.Plan.Expect(ExpectKind.Forward, FrontendCode.Execute);
        EmptyFrontendMessage.Write(batch.Buffer, FrontendCode.Sync);
        batch.Plan.Expect(ExpectKind.Forward, FrontendCode.Sync);
        services.Metrics.RecordAutoPreparedRun();
        return true;
    }

    /// <summary>DDL (or anything that may run it) invalidates what was prepared: see <see cref="Statements.AutoStatements.Invalidate"/>.</summary>
    public void NoteSchemaChange(SqlAnalysis sql, bool singleStatement = false)
    {
        if (!services.Options.AutoPrepare || !sql.MayChangeSchema(singleStatement))
            return;
        services.Statements.Auto.Invalidate();
        _schemaChangedInTransaction = true; // until the unit ends outside a transaction block
    }

    /// <summary>A unit has run: a transaction that changed the schema has ended, so its changes are final (or undone).</summary>
    public void EndSchemaChangeIfIdle(TransactionStatus status)
    {
        if (_schemaChangedInTransaction && status == TransactionStatus.Idle)
        {
            _schemaChangedInTransaction = false;
            services.Statements.Auto.Invalidate();
        }
    }

    /// <summary>Auto-prepared statements are the shared catalog's, prepared again in the new engine on their next use; the client names none.</summary>
    RestartOutcome ISessionState.Restarted()
    {
        _schemaChangedInTransaction = false; // the transaction died with the engine
        return RestartOutcome.NothingHeld;
    }

    ValueTask ISessionState.AfterUnitAsync(UnitOutcome unit, ReadBack readBack)
    {
        EndSchemaChangeIfIdle(unit.Status);
        return ValueTask.CompletedTask;
    }
}
