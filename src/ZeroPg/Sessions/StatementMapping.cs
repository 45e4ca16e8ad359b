using System.Buffers;
using System.Text;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Frontend;
using ZeroPg.Sessions.Statements;
using ZeroPg.Sql;

namespace ZeroPg.Sessions;

/// <summary>
/// A client's statement names mapped onto the shared engine's statements (prepared_statement.c in
/// PgBouncer): a named Parse becomes the engine statement of the same text and types, shared by every
/// client that parsed it; Bind and Describe use the engine's name, preparing it again first if the engine
/// lost it; Close drops only the client's name; the client's unnamed statement is parsed again when another
/// client replaced it; duplicate and unknown names fail exactly where Postgres raises them. Thread: the
/// session (the shared catalog takes its own lock).
/// </summary>
internal sealed class StatementMapping(StatementCatalog catalog)
{
    /// <summary>Fails at parse time, so the engine aborts the extended sequence exactly where ZeroPg raised an error.</summary>
    private static readonly byte[] FailingSql = "zeropg raises an error here"u8.ToArray();
    private static readonly byte[] NoParameterTypes = [0, 0];
    private static readonly byte[] ParseCompleteReply = [(byte)BackendCode.ParseComplete, 0, 0, 0, 4];
    private static readonly byte[] CloseCompleteReply = [(byte)BackendCode.CloseComplete, 0, 0, 0, 4];

    private readonly ClientStatements _own = new();

    /// <summary>The portal of the last Bind when its statement is DISCARD ALL / DEALLOCATE ALL.</summary>
    private string? _resetPortal;

    public ClientStatements Own => _own;

    /// <summary>A Parse: <paramref name="message"/> as the engine must get it (its SQL rewritten when needed, then <paramref name="rewritten"/>).</summary>
    public void Parse(EngineBatch batch, ReadOnlySpan<byte> message, string name, SqlAnalysis analysis, bool rewritten)
    {
        var parse = ParseMessage.Read(message[MessageFramer.HeaderLength..]);
        if (name.Length == 0)
        {
            _own.UnnamedDeallocatesAll = analysis.DeallocatesAll;
            _own.SetUnnamed(message.ToArray(), analysis);
            var version = ++_own.UnnamedVersion;
            catalog.SetUnnamed(_own, version);
            batch.Buffer.Append(message);
            batch.Plan.Expect(ExpectKind.Forward, FrontendCode.Parse, onCompleted: ok =>
            {
                // A failed Parse leaves no unnamed statement (it dropped the old one): nothing to replay later.
                if (!ok && _own.UnnamedVersion == version)
                    _own.SetUnnamed(null, null);
            });
            return;
        }
        if (_own.Contains(name))
        {
            RaiseInEngine(batch, PgError.Error(SqlState.DuplicatePreparedStatement, $"prepared statement \"{name}\" already exists"));
            return;
        }
        var statement = catalog.GetOrAdd(parse.Sql, parse.ParameterTypes, rewritten ? null : analysis);
        _own.Add(name, statement);
        if (catalog.IsPrepared(statement))
        {
            batch.Plan.Expect(ExpectKind.Synthesize, FrontendCode.Parse, ParseCompleteReply, ok =>
            {
                if (!ok)
                    _own.RemoveIf(name, statement); // skipped after an earlier error, as Postgres would
            });
            return;
        }
        catalog.WritePrepare(batch, statement, ExpectKind.Forward, ok =>
        {
            if (!ok)
                _own.RemoveIf(name, statement);
        });
    }

    /// <summary>A Bind: to the engine statement behind the client's name.</summary>
    public void Bind(EngineBatch batch, ReadOnlySpan<byte> message, string portal, string name)
    {
        if (Resolve(batch, name) is not { } engineName)
            return;
        var bind = BindMessage.Read(message[MessageFramer.HeaderLength..]);
        BindMessage.Write(batch.Buffer, bind.PortalName, engineName, bind.Rest);
        batch.Plan.Expect(ExpectKind.Forward, FrontendCode.Bind);
        _resetPortal = BindsReset(name) ? portal : null;
    }

    /// <summary>An Execute: of a portal that runs DISCARD ALL / DEALLOCATE ALL, the engine holds no named statement afterwards.</summary>
    public void Execute(EngineBatch batch, ReadOnlySpan<byte> message, string portal)
    {
        batch.Buffer.Append(message);
        if (_resetPortal is null || portal != _resetPortal)
        {
            batch.Plan.Expect(ExpectKind.Forward, FrontendCode.Execute);
            return;
        }
        batch.Plan.Expect(ExpectKind.Forward, FrontendCode.Execute, onCompleted: ok =>
        {
            if (ok)
                ForgetEngineStatements(keepUnnamed: true);
        });
    }

    /// <summary>A Describe of a statement: by the engine's name.</summary>
    public void DescribeStatement(EngineBatch batch, string name)
    {
        if (Resolve(batch, name) is not { } engineName)
            return;
        TargetedMessage.Write(batch.Buffer, FrontendCode.Describe, TargetedMessage.Statement, engineName);
        batch.Plan.Expect(ExpectKind.Forward, FrontendCode.Describe);
    }

    /// <summary>A Close of a statement: only the client's name goes; the engine statement stays for others that share it.</summary>
    public void CloseStatement(EngineBatch batch, ReadOnlySpan<byte> message, string name)
    {
        if (name.Length > 0)
        {
            _own.Remove(name);
            batch.Plan.Expect(ExpectKind.Synthesize, FrontendCode.Close, CloseCompleteReply);
            return;
        }
        _own.SetUnnamed(null, null);
        if (catalog.UnnamedIsOf(_own))
        {
            catalog.SetUnnamed(null);
            batch.Forward(FrontendCode.Close, message);
        }
        else
        {
            batch.Plan.Expect(ExpectKind.Synthesize, FrontendCode.Close, CloseCompleteReply);
        }
    }

    /// <summary>A simple Query replaces the engine's unnamed statement.</summary>
    public void QueryReplacesUnnamed() => catalog.SetUnnamed(null);

    /// <summary>
    /// Raises <paramref name="error"/> at this point of the extended sequence: a Parse that fails in the
    /// engine makes it abort the transaction and skip to Sync exactly as Postgres would for ours.
    /// </summary>
    public void RaiseInEngine(EngineBatch batch, PgError error) => WriteFailingParse(batch.Buffer, batch.Plan, error);

    /// <summary>A failing Parse without a reply plan (cleanup: a Sync after it then rolls back the sequence).</summary>
    public void WriteFailingParse(IBufferWriter<byte> buffer) => WriteFailingParse(buffer, null, null);

    private void WriteFailingParse(IBufferWriter<byte> buffer, ReplyPlan? plan, PgError? error)
    {
        ParseMessage.Write(buffer, [], FailingSql, NoParameterTypes);
        catalog.SetUnnamed(null);
        plan?.Add(new Expectation(ExpectKind.ReplaceError, FrontendCode.Parse, Error: error));
    }

    /// <summary>
    /// DISCARD ALL / DEALLOCATE ALL (a pool's reset) drops every engine statement, other clients' too:
    /// they are prepared again when next used, and this client's own names are gone as in Postgres.
    /// </summary>
    public void ForgetEngineStatements(bool keepUnnamed)
    {
        catalog.Forget();
        var (unnamed, unnamedSql) = (_own.LastUnnamedParse, _own.LastUnnamedSql);
        _own.Clear();
        if (keepUnnamed)
            _own.SetUnnamed(unnamed, unnamedSql); // the unnamed statement is not deallocated; it is parsed again when used
    }

    /// <summary>The SQL of the client's statement <paramref name="name"/> ("" for the unnamed one), if it has one.</summary>
    public SqlAnalysis? StatementSql(string name)
    {
        if (name.Length > 0)
            return _own.TryGet(name, out var statement) ? statement.Analysis : null;
        return _own.LastUnnamedSql;
    }

    /// <summary>The engine name to use for a client's statement name, preparing it first if the engine lost it; null after raising 26000.</summary>
    private byte[]? Resolve(EngineBatch batch, string name)
    {
        if (name.Length == 0)
        {
            if (catalog.HoldsUnnamed(_own, _own.UnnamedVersion))
                return [];
            if (_own.LastUnnamedParse is { } replay)
            {
                // Another client's Parse replaced the engine's unnamed statement since ours: parse ours again.
                batch.Buffer.Append(replay);
                batch.Plan.Expect(ExpectKind.Swallow, FrontendCode.Parse);
                catalog.SetUnnamed(_own, _own.UnnamedVersion);
                return [];
            }
            RaiseInEngine(batch, PgError.Error(SqlState.InvalidSqlStatementName, "unnamed prepared statement does not exist"));
            return null;
        }
        if (!_own.TryGet(name, out var statement))
        {
            RaiseInEngine(batch, PgError.Error(SqlState.InvalidSqlStatementName, $"prepared statement \"{name}\" does not exist"));
            return null;
        }
        if (!catalog.IsPrepared(statement))
            catalog.WritePrepare(batch, statement, ExpectKind.Swallow);
        return statement.EngineNameBytes;
    }

    /// <summary>True when a Bind of <paramref name="name"/> makes a portal that runs DISCARD ALL / DEALLOCATE ALL.</summary>
    private bool BindsReset(string name)
    {
        if (name.Length == 0)
            return _own.UnnamedDeallocatesAll;
        return _own.TryGet(name, out var statement) && statement.DeallocatesAll;
    }
}
