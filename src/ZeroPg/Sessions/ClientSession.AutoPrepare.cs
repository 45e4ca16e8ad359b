using System.Text;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Frontend;
using ZeroPg.Sessions.Statements;
using ZeroPg.Sql;

namespace ZeroPg.Sessions;

/// <summary>
/// Simple Queries run through statements ZeroPg prepares once (see <see cref="AutoParameterizer"/>):
/// Parse (first time only), Bind with the literals' values as text, Describe, Execute and Sync, with
/// the replies a Query would not get (ParseComplete, BindComplete, NoData) dropped. The client sees
/// exactly the reply of its Query.
/// </summary>
internal sealed partial class ClientSession
{
    /// <summary>This transaction changed the schema: prepare nothing more in it, and forget all auto statements when it ends (a rollback undoes the change).</summary>
    private bool _schemaChangedInTransaction;

    /// <summary>The auto-prepared run of the unit failed before running anything: run it again as sent.</summary>
    private bool _runPlainOnce;

    /// <summary>
    /// Writes <paramref name="sql"/> as an auto-prepared run and returns true; or returns false to send it
    /// as a plain Query, with <paramref name="onPlainCompleted"/> to call once it has run.
    /// </summary>
    private bool TryAutoPrepare(SqlAnalysis sql, out Action<bool>? onPlainCompleted)
    {
        onPlainCompleted = null;
        if (!_services.Options.AutoPrepare)
            return false;
        if (!sql.TryParameterize(out var query))
        {
            NoteSchemaChange(sql);
            return false;
        }
        // A client's own temp tables shadow tables by name, and a shared plan would not see them; settings
        // changed but not yet read back would make the key below stale.
        if (_runPlainOnce || _status == TransactionStatus.Failed || _schemaChangedInTransaction || _tempRelations.Count > 0 || _tempDirty
            || _settingsDirty || !_effects.IsEmpty)
            return false;
        var auto = Catalog.Auto;
        var key = AutoPrepareKey(query.Sql);
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
            TargetedMessage.Write(_engineBatch, FrontendCode.Close, TargetedMessage.Statement, name);
            Expect(ExpectKind.Swallow, FrontendCode.Close);
        }
        if (!Catalog.IsPrepared(statement))
        {
            CloseIfMaybeHeld(statement);
            ParseMessage.Write(_engineBatch, statement.EngineNameBytes, statement.Sql, statement.ParameterTypes);
            var prepared = MarkPrepared(statement);
            Expect(ExpectKind.Swallow, FrontendCode.Parse, onCompleted: ok =>
            {
                prepared(ok);
                if (!ok)
                    auto.Refuse(key);
            });
        }
        BindMessage.WriteText(_engineBatch, [], statement.EngineNameBytes, query.Values);
        var retryable = _status == TransactionStatus.Idle; // a deferred BEGIN makes it InTransaction too
        Expect(retryable ? ExpectKind.BindRetryable : ExpectKind.Swallow, FrontendCode.Bind, onCompleted: ok =>
        {
            if (!ok)
                auto.Drop(key); // e.g. "cached plan must not change result type": prepare it afresh next time
        });
        TargetedMessage.Write(_engineBatch, FrontendCode.Describe, TargetedMessage.Portal, []);
        Expect(ExpectKind.DescribeForQuery, FrontendCode.Describe);
        ExecuteMessage.Write(_engineBatch, [], 0);
        Expect(ExpectKind.Forward, FrontendCode.Execute);
        EmptyFrontendMessage.Write(_engineBatch, FrontendCode.Sync);
        Expect(ExpectKind.Forward, FrontendCode.Sync);
        _services.Metrics.RecordAutoPreparedRun();
        return true;
    }

    /// <summary>
    /// Settings that change what Postgres makes of a statement's text when it parses it: the name
    /// lookup (search_path; the plan cache would re-plan, but fails if the columns differ) and literals
    /// converted then (a timestamptz in TimeZone, a date in DateStyle). Clients that differ in them
    /// get statements of their own.
    /// </summary>
    private static readonly string[] ParseSettings =
    [
        "search_path", "timezone", "datestyle", "intervalstyle", "timezone_abbreviations", "lc_monetary", "xmloption",
        "transform_null_equals", "array_nulls", "standard_conforming_strings", "default_text_search_config", "role", "session_authorization",
    ];

    private string AutoPrepareKey(string sql)
    {
        if (_settings.Count == 0)
            return sql;
        var key = new StringBuilder();
        foreach (var name in ParseSettings)
        {
            if (_settings.TryGetValue(name, out var value))
                key.Append(name).Append('=').Append(value).Append('\n');
        }
        return key.Length == 0 ? sql : key.Append(sql).ToString();
    }

    /// <summary>DDL (or anything that may run it) invalidates what was prepared: see <see cref="AutoStatements.Invalidate"/>.</summary>
    private void NoteSchemaChange(SqlAnalysis sql, bool singleStatement = false)
    {
        if (!_services.Options.AutoPrepare || !sql.MayChangeSchema(singleStatement))
            return;
        Catalog.Auto.Invalidate();
        _schemaChangedInTransaction = true; // until the unit ends outside a transaction block
    }

    /// <summary>Called when a unit has run: a transaction that changed the schema has ended, so its changes are final (or undone).</summary>
    private void EndSchemaChangeIfIdle()
    {
        if (_schemaChangedInTransaction && _status == TransactionStatus.Idle)
        {
            _schemaChangedInTransaction = false;
            Catalog.Auto.Invalidate();
        }
    }
}
