using System.Buffers;
using System.Text;
using System.Text.Json;
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
/// client replaced it; duplicate and unknown names fail exactly where Postgres raises them. SQL PREPARE,
/// EXECUTE and DEALLOCATE name the same statements (<see cref="ForQuery"/>): a name SQL PREPARE made is the
/// client's own engine statement "zp&lt;pid&gt;_name", one a Parse made the shared one; pg_prepared_statements shows
/// the client's own under its names (<see cref="WritePreparedStatements"/>). Thread: the session (the shared
/// catalog takes its own lock).
/// </summary>
internal sealed class StatementMapping(StatementCatalog catalog, SessionIdentity identity) : ISessionState
{
    /// <summary>Fails at parse time, so the engine aborts the extended sequence exactly where ZeroPg raised an error.</summary>
    private static readonly byte[] FailingSql = "zeropg raises an error here"u8.ToArray();
    private static readonly byte[] NoParameterTypes = [0, 0];
    private static readonly byte[] ParseCompleteReply = [(byte)BackendCode.ParseComplete, 0, 0, 0, 4];
    private static readonly byte[] CloseCompleteReply = [(byte)BackendCode.CloseComplete, 0, 0, 0, 4];

    private readonly ClientStatements _own = new(catalog);

    /// <summary>Names the unit being built added (undone when the unit is built again to run again).</summary>
    private readonly List<(string Name, EngineStatement Statement)> _addedInUnit = [];

    /// <summary>
    /// Where the client's unnamed Parse is in the batch being built: in the sequence still open, or before a Sync since (then an
    /// error earlier in its sequence may have skipped it, and the engine's unnamed statement is what it was, maybe a COPY FROM STDIN).
    /// </summary>
    private UnnamedParse _unnamedParse;

    private enum UnnamedParse { None, InSequence, BeforeSync }

    /// <summary>The portal of the last Bind when its statement is DISCARD ALL / DEALLOCATE ALL.</summary>
    private string? _resetPortal;

    /// <summary>The SQL statement names the client's unnamed statement resolved (SQL EXECUTE / DEALLOCATE / PREPARE sent by Parse), and the portal of the last Bind of it.</summary>
    private QueryStatementNames? _unnamedNames;
    private (string Portal, QueryStatementNames Names)? _namesPortal;

    /// <summary>The SQL statement names a named statement of the client resolved (its SQL is EXECUTE / DEALLOCATE / PREPARE: asyncpg, psycopg).</summary>
    private readonly Dictionary<string, QueryStatementNames> _namedNames = new(StringComparer.Ordinal);

    public ClientStatements Own => _own;

    /// <summary>A Parse: <paramref name="message"/> as the engine must get it (its SQL rewritten when needed, then <paramref name="rewritten"/>).</summary>
    public void Parse(EngineBatch batch, ReadOnlySpan<byte> message, string name, SqlAnalysis analysis, bool rewritten, QueryStatementNames? names = null)
    {
        var parse = ParseMessage.FromMessage(message);
        if (name.Length == 0)
        {
            _unnamedNames = names;
            _own.UnnamedDeallocatesAll = analysis.DeallocatesAll;
            _own.SetUnnamed(message.ToArray(), analysis);
            var version = ++_own.UnnamedVersion;
            catalog.SetUnnamed(_own, version);
            _unnamedParse = UnnamedParse.InSequence;
            batch.Buffer.Append(message);
            batch.Plan.Expect(ExpectKind.Forward, FrontendCode.Parse, onCompleted: ok =>
            {
                // A failed Parse leaves no unnamed statement (it dropped the old one): nothing to replay later. Nor is the engine's
                // the client's: none, or, after a Parse skipped for an earlier error, the one before it.
                if (!ok && _own.UnnamedVersion == version)
                    _own.SetUnnamed(null, null);
                if (!ok && catalog.HoldsUnnamed(_own, version))
                    catalog.SetUnnamed(null);
            });
            return;
        }
        if (_own.Contains(name))
        {
            RaiseInEngine(batch, PgError.Error(SqlState.DuplicatePreparedStatement, $"prepared statement \"{name}\" already exists"));
            return;
        }
        var statement = catalog.GetOrAdd(parse.Sql, parse.ParameterTypes, rewritten ? null : analysis);
        if (names is not null)
            _namedNames[name] = names;
        else
            _namedNames.Remove(name);
        _own.Add(name, statement);
        _addedInUnit.Add((name, statement));
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
        var bind = BindMessage.FromMessage(message);
        BindMessage.Write(batch.Buffer, Portals.PortalNames.Engine(identity.ProcessId, portal), engineName, bind.Rest);
        batch.Plan.Add(new Expectation(ExpectKind.Forward, FrontendCode.Bind, ClientNames: ClientNamesOf(name)));
        _resetPortal = BindsReset(name) ? portal : null;
        var names = name.Length == 0 ? _unnamedNames : _namedNames.GetValueOrDefault(name);
        _namesPortal = names is not null ? (portal, names) : null;
    }

    /// <summary>An Execute: of a portal that runs DISCARD ALL / DEALLOCATE ALL, the engine holds no named statement afterwards.</summary>
    public void Execute(EngineBatch batch, ReadOnlySpan<byte> message, string portal)
    {
        Portals.PortalNames.WriteExecute(batch, message, identity.ProcessId, portal);
        if (_namesPortal is { } bound && bound.Portal == portal)
        {
            batch.Plan.Add(new Expectation(ExpectKind.Forward, FrontendCode.Execute, OnCompleted: bound.Names.Completed, ClientNames: bound.Names.ClientNames));
            return;
        }
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
        batch.Plan.Add(new Expectation(ExpectKind.Forward, FrontendCode.Describe, ClientNames: ClientNamesOf(name)));
    }

    /// <summary>A Close of a statement: only the client's name goes; the engine statement stays for others that share it.</summary>
    public void CloseStatement(EngineBatch batch, ReadOnlySpan<byte> message, string name)
    {
        if (name.Length > 0)
        {
            if (_own.TryGet(name, out var statement) && statement.FromSql)
            {
                // The client's own engine statement: it goes from the engine too.
                var names = ClientNamesOf(name);
                _own.Remove(name);
                TargetedMessage.Write(batch.Buffer, FrontendCode.Close, TargetedMessage.Statement, statement.EngineNameBytes);
                batch.Plan.Add(new Expectation(ExpectKind.Forward, FrontendCode.Close, ClientNames: names));
                return;
            }
            _own.Remove(name);
            _namedNames.Remove(name);
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

    /// <summary>An unnamed Parse ZeroPg answered itself (<see cref="Waiting.DeferredTransaction"/>): the engine gets it when a Bind uses it.</summary>
    public void ParsedLocally(byte[] parse, SqlAnalysis analysis)
    {
        _unnamedNames = null;
        _own.UnnamedDeallocatesAll = false;
        _own.SetUnnamed(parse, analysis);
        ++_own.UnnamedVersion; // not the engine's: a Bind of it parses it again first
    }

    /// <summary>A Sync of the client's ends the sequence being built (see <see cref="_unnamedParse"/>).</summary>
    public void SequenceEnded() => _unnamedParse = _unnamedParse == UnnamedParse.InSequence ? UnnamedParse.BeforeSync : _unnamedParse;

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

    /// <summary>A unit's batch is being built.</summary>
    public void BeginUnit()
    {
        _addedInUnit.Clear();
        _unnamedParse = UnnamedParse.None;
    }

    /// <summary>
    /// The unit runs again (it waited for an advisory lock, or an auto-prepared Query runs plain): the names its Parses and
    /// PREPAREs added go, so they are added again rather than found duplicate. The engine's shared statements stay.
    /// </summary>
    public void UndoUnit()
    {
        foreach (var (name, statement) in _addedInUnit)
            _own.RemoveIf(name, statement);
        _addedInUnit.Clear();
    }

    /// <summary>True when the client's statement <paramref name="name"/> was made by SQL PREPARE (Close must reach the engine).</summary>
    public bool IsMadeBySql(string name) => _own.TryGet(name, out var statement) && statement.FromSql;

    /// <summary>
    /// A simple Query's SQL PREPARE / EXECUTE / DEALLOCATE names in the client's one namespace: a name a Parse made is its
    /// shared engine statement (prepared again first if the engine lost it, when <paramref name="canPrepare"/>: a Parse and a
    /// Sync of ours before the Query); any other is the client's own "zp&lt;pid&gt;_name". PREPARE of a new name adds it,
    /// DEALLOCATE drops it when the Query succeeds (a shared statement is deallocated in the engine and prepared again
    /// when another client uses it). Null when the SQL names no statement.
    /// </summary>
    public QueryStatementNames? ForQuery(EngineBatch batch, SqlAnalysis sql, bool canPrepare, bool sync = true)
    {
        QueryStatementNames? names = null;
        var prepared = false;
        foreach (var edit in sql.Edits)
        {
            if (!edit.IsStatementName)
                continue;
            names ??= new QueryStatementNames();
            var name = edit.Text!;
            if (_own.TryGet(name, out var statement))
            {
                if (!statement.FromSql && canPrepare && !catalog.IsPrepared(statement))
                {
                    catalog.WritePrepare(batch, statement, ExpectKind.Swallow);
                    prepared = true;
                }
                if (edit.Kind == SqlEditKind.DeallocateName)
                {
                    if (!statement.FromSql)
                        catalog.MarkMaybeHeld(statement);
                    names.OnSucceeded += () => _own.RemoveIf(name, statement);
                }
            }
            else if (edit.Kind == SqlEditKind.PrepareName)
            {
                var engineName = SqlEdit.PrefixedName(identity.ProcessId, name);
                statement = new EngineStatement(engineName, Encoding.UTF8.GetBytes(sql.Sql), NoParameterTypes, sql, fromSql: true);
                _own.Add(name, statement, sql.Sql);
                _addedInUnit.Add((name, statement));
                var made = statement;
                names.OnFailed += () => _own.RemoveIf(name, made);
            }
            var engine = statement?.EngineName ?? SqlEdit.PrefixedName(identity.ProcessId, name);
            names.Add(edit, engine, name);
        }
        if (prepared && sync)
        {
            // A Query after an error in the extended protocol would be skipped: the Parse ends at its own Sync.
            EmptyFrontendMessage.Write(batch.Buffer, FrontendCode.Sync);
            batch.Plan.Expect(ExpectKind.Swallow, FrontendCode.Sync);
        }
        return names;
    }

    /// <summary>
    /// A named Parse whose SQL is EXECUTE / DEALLOCATE / PREPARE (asyncpg and psycopg prepare every statement by name): its
    /// names are resolved in the client's one namespace now, as <see cref="ForQuery"/> does (a name a Parse made is its shared
    /// engine statement, prepared again first if the engine lost it; any other the client's own "zp&lt;pid&gt;_name"), and stay
    /// so for the statement's life. What running it does to the names (PREPARE adds, DEALLOCATE drops) is applied each time
    /// one of its portals runs successfully (<see cref="Execute"/>); the engine's errors name the client's statements.
    /// </summary>
    public QueryStatementNames? ForNamedParse(EngineBatch batch, SqlAnalysis sql)
    {
        QueryStatementNames? names = null;
        foreach (var edit in sql.Edits)
        {
            if (!edit.IsStatementName)
                continue;
            names ??= new QueryStatementNames();
            var name = edit.Text!;
            string engineName;
            if (_own.TryGet(name, out var statement))
            {
                if (!statement.FromSql && !catalog.IsPrepared(statement))
                    catalog.WritePrepare(batch, statement, ExpectKind.Swallow);
                engineName = statement.EngineName;
                if (edit.Kind == SqlEditKind.DeallocateName)
                {
                    var dropped = statement;
                    names.OnSucceeded += () =>
                    {
                        if (!dropped.FromSql)
                            catalog.MarkMaybeHeld(dropped);
                        _own.RemoveIf(name, dropped);
                    };
                }
            }
            else
            {
                engineName = SqlEdit.PrefixedName(identity.ProcessId, name);
                if (edit.Kind == SqlEditKind.PrepareName)
                {
                    var made = new EngineStatement(engineName, Encoding.UTF8.GetBytes(sql.Sql), NoParameterTypes, sql, fromSql: true);
                    names.OnSucceeded += () =>
                    {
                        if (!_own.Contains(name))
                            _own.Add(name, made, sql.Sql);
                    };
                }
            }
            names.Add(edit, engineName, name);
        }
        return names;
    }

    /// <summary>
    /// Before a Query, or a Bind of a statement, that reads pg_prepared_statements: hands the engine the client's statements
    /// (see <see cref="SqlEdit.PreparedStatementsSql"/>) in a Query of ours, which must not come between a Bind and its Execute.
    /// </summary>
    public void WritePreparedStatements(EngineBatch batch)
    {
        var json = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartArray();
            foreach (var (name, statement, text) in _own.All)
            {
                writer.WriteStartObject();
                writer.WriteString("e", statement.EngineName);
                writer.WriteString("n", name);
                writer.WriteString("s", text);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
        }
        QueryMessage.Write(batch.Buffer, $"SELECT pg_catalog.set_config('{SqlEdit.PreparedStatementsSetting}', {SqlEdit.Literal(Encoding.UTF8.GetString(json.WrittenSpan))}, false)");
        batch.Plan.Expect(ExpectKind.Swallow, FrontendCode.Query);
        catalog.SetUnnamed(null); // a simple Query drops the unnamed statement: the client's is parsed again if it is used
    }

    /// <summary>The client leaves: its names go. True when shared engine statements no client names any more wait to be closed (<see cref="WriteCloseUnheld"/>).</summary>
    public bool ReleaseAll()
    {
        _own.Clear();
        return catalog.HasUnheld;
    }

    /// <summary>Closes in the engine the shared statements no client names any more (Close messages and a Sync). Called holding the engine.</summary>
    public void WriteCloseUnheld(IBufferWriter<byte> cleanup)
    {
        var closed = false;
        foreach (var statement in catalog.TakeUnheld())
        {
            TargetedMessage.Write(cleanup, FrontendCode.Close, TargetedMessage.Statement, statement.EngineNameBytes);
            closed = true;
        }
        if (closed)
            EmptyFrontendMessage.Write(cleanup, FrontendCode.Sync);
    }

    /// <summary>SQL that deallocates the statements the client's SQL PREPARE made (its own in the engine), or null when it has none.</summary>
    public string? DeallocateMadeBySqlSql()
    {
        var made = _own.MadeBySql.Select(s => "DEALLOCATE " + SqlEdit.Identifier(s.EngineName)).ToList();
        return made.Count == 0 ? null : string.Join("; ", made);
    }

    /// <summary>
    /// DISCARD ALL / DEALLOCATE ALL answered for this client alone: the statements its SQL PREPARE made go from the engine
    /// (a Query of ours, its reply swallowed); the names are dropped when the unit's effects are applied.
    /// </summary>
    public void WriteDeallocateMadeBySql(EngineBatch batch)
    {
        if (DeallocateMadeBySqlSql() is not { } sql)
            return;
        QueryMessage.Write(batch.Buffer, sql);
        batch.Plan.Expect(ExpectKind.Swallow, FrontendCode.Query);
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
            if (catalog.HoldsUnnamed(_own, _own.UnnamedVersion) && _unnamedParse != UnnamedParse.BeforeSync)
                return [];
            if (_own.LastUnnamedParse is { } replay)
            {
                // Another client's Parse replaced the engine's unnamed statement since ours, or ours may have been skipped: parse ours again.
                batch.Buffer.Append(replay);
                batch.Plan.Expect(ExpectKind.Swallow, FrontendCode.Parse);
                catalog.SetUnnamed(_own, _own.UnnamedVersion);
                _unnamedParse = UnnamedParse.InSequence;
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
        if (!statement.FromSql && !catalog.IsPrepared(statement))
            catalog.WritePrepare(batch, statement, ExpectKind.Swallow);
        return statement.EngineNameBytes;
    }

    /// <summary>
    /// For a statement the client's SQL PREPARE made (its own in the engine, "zp&lt;pid&gt;_name"): the engine's name to the
    /// client's, so an engine error about it (26000 once an engine restart lost it) names it as the client does. Null otherwise.
    /// </summary>
    private Dictionary<string, string>? ClientNamesOf(string name)
        => name.Length > 0 && _own.TryGet(name, out var statement) && statement.FromSql
            ? new Dictionary<string, string>(StringComparer.Ordinal) { [statement.EngineName] = name }
            : null;

    /// <summary>True when a Bind of <paramref name="name"/> makes a portal that runs DISCARD ALL / DEALLOCATE ALL.</summary>
    private bool BindsReset(string name)
    {
        if (name.Length == 0)
            return _own.UnnamedDeallocatesAll;
        return _own.TryGet(name, out var statement) && statement.DeallocatesAll;
    }

    /// <summary>
    /// Statements a Parse made (named or unnamed) are prepared again in the new engine when next used: the catalog forgot the old
    /// engine's (<see cref="StatementCatalog.ForgetForGeneration"/>). Those the client's SQL PREPARE made are its own text, which
    /// ZeroPg does not keep apart from the PREPARE that made them: they cannot be made again, and the client cannot go on.
    /// </summary>
    RestartOutcome ISessionState.Restarted()
    {
        var bySql = _own.All.Where(s => s.Statement.FromSql).Select(s => s.Name).ToList();
        if (bySql.Count > 0)
            return RestartOutcome.CannotRestore($"the statements its SQL PREPARE made ({string.Join(", ", bySql)})");
        return _own.Count == 0 && _own.LastUnnamedParse is null ? RestartOutcome.NothingHeld
            : RestartOutcome.Restored("prepared statements: prepared again in the new engine when next used");
    }

    /// <summary>What the departing client's SQL PREPARE made, deallocated at its end (<see cref="ISessionState.LeftBehind"/>).</summary>
    private string? _deallocateAtEnd;

    /// <summary>DEALLOCATE ALL or DISCARD ALL ran in the engine itself: its statements are gone for everyone (prepared again on use).</summary>
    ValueTask ISessionState.AfterUnitAsync(UnitOutcome unit, ReadBack readBack)
    {
        if (unit.Effects.DeallocatesAll)
        {
            catalog.Forget();
            if (unit.Status != Protocol.TransactionStatus.Failed)
                _own.Clear(); // the client's names go only if it did run: DISCARD ALL fails inside a transaction block
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>Its names go; what its SQL PREPARE made, and shared statements no client names any more, are closed in the engine.</summary>
    bool ISessionState.LeftBehind()
    {
        _deallocateAtEnd = DeallocateMadeBySqlSql();
        return ReleaseAll() | _deallocateAtEnd is not null;
    }

    void ISessionState.WriteCleanup(SessionEnd end)
    {
        end.Sql(_deallocateAtEnd);
        WriteCloseUnheld(end.Buffer);
    }
}
