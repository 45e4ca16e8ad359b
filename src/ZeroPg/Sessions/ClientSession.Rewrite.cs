using System.Buffers.Binary;
using System.Text;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;
using ZeroPg.Protocol.Frontend;
using ZeroPg.Sessions.Statements;
using ZeroPg.Sql;

namespace ZeroPg.Sessions;

/// <summary>
/// Turns a client's messages into what the shared engine session must see, while this session owns
/// the engine: statement names are mapped into the engine's namespace, statements the engine lost are
/// prepared again, and what ZeroPg answers itself is queued as a synthesized reply.
/// </summary>
internal sealed partial class ClientSession
{
    /// <summary>Fails at parse time, so the engine aborts the extended sequence exactly where ZeroPg raised an error.</summary>
    private static readonly byte[] FailingSql = "zeropg raises an error here"u8.ToArray();
    private static readonly byte[] NoParameterTypes = [0, 0];
    private static readonly byte[] ParseCompleteReply = [(byte)BackendCode.ParseComplete, 0, 0, 0, 4];
    private static readonly byte[] CloseCompleteReply = [(byte)BackendCode.CloseComplete, 0, 0, 0, 4];

    private readonly ClientStatements _statements = new();
    private readonly BatchBuffer _engineBatch = new();
    private readonly List<Expectation> _expectations = [];
    private readonly UnitEffects _effects = new();

    /// <summary>The portal of the last Bind when its statement is DISCARD ALL / DEALLOCATE ALL.</summary>
    private byte[]? _resetPortal;

    private StatementCatalog Catalog => _services.Statements;

    private string[] ListeningChannels() => _services.Notifications.ChannelsOf(this);

    /// <summary>Rewrites <paramref name="messages"/> (whole client messages) into <see cref="_engineBatch"/> and <see cref="_expectations"/>.</summary>
    private void Rewrite(ReadOnlySpan<byte> messages)
    {
        _engineBatch.Clear();
        _expectations.Clear();
        _effects.Clear();
        PrependDeferredBegin();
        var offset = 0;
        while (offset < messages.Length)
        {
            var length = 1 + BinaryPrimitives.ReadInt32BigEndian(messages[(offset + 1)..]);
            var message = messages.Slice(offset, length);
            RewriteMessage((FrontendCode)message[0], message, message[5..]);
            offset += length;
        }
    }

    private void RewriteMessage(FrontendCode code, ReadOnlySpan<byte> message, ReadOnlySpan<byte> body)
    {
        switch (code)
        {
            case FrontendCode.Parse:
                var original = ParseMessage.Read(body);
                var originalSql = Encoding.UTF8.GetString(original.Sql);
                var analysis = SqlAnalysis.Of(originalSql);
                if (analysis.CopiesFromStdin)
                {
                    // PGlite needs COPY data in the same call as the COPY; through the extended protocol the data comes later.
                    RaiseInEngine(PgError.Error(SqlState.FeatureNotSupported,
                        "COPY FROM STDIN is not supported in the extended query protocol by ZeroPg",
                        "Send COPY ... FROM STDIN as a simple Query (psql \\copy, Npgsql BeginBinaryImport and pgbench do)."));
                    break;
                }
                NoteSchemaChange(analysis, singleStatement: true);
                _effects.Add(analysis.Effects);
                var rewrittenSql = analysis.Rewrite(ProcessId, ListeningChannels);
                if (ReferenceEquals(originalSql, rewrittenSql))
                {
                    RewriteParse(message, original, analysis);
                    break;
                }
                var rewritten = new System.Buffers.ArrayBufferWriter<byte>();
                ParseMessage.Write(rewritten, original.StatementName, Encoding.UTF8.GetBytes(rewrittenSql), original.ParameterTypes);
                RewriteParse(rewritten.WrittenSpan, ParseMessage.Read(rewritten.WrittenSpan[5..]), analysis);
                break;
            case FrontendCode.Bind:
                var bind = BindMessage.Read(body);
                if (ResolveStatement(bind.StatementName, code) is { } bound)
                {
                    BindMessage.Write(_engineBatch, bind.PortalName, bound, bind.Rest);
                    Expect(ExpectKind.Forward, code);
                    _resetPortal = BindsStatementReset(bind.StatementName) ? bind.PortalName.ToArray() : null;
                }
                break;
            case FrontendCode.Execute:
                if (_resetPortal is not null && ExecuteMessage.Read(body).PortalName.SequenceEqual(_resetPortal))
                {
                    // DISCARD ALL / DEALLOCATE ALL through the extended protocol: once it has run, the engine holds no named statement.
                    _engineBatch.Append(message);
                    Expect(ExpectKind.Forward, code, onCompleted: ok =>
                    {
                        if (ok)
                            ForgetEngineStatements(keepUnnamed: true);
                    });
                }
                else
                {
                    Forward(code, message);
                }
                break;
            case FrontendCode.Describe:
                var describe = TargetedMessage.Read(body, "Describe");
                if (describe.Target == TargetedMessage.Portal)
                    Forward(code, message);
                else if (ResolveStatement(describe.Name, code) is { } described)
                {
                    TargetedMessage.Write(_engineBatch, code, TargetedMessage.Statement, described);
                    Expect(ExpectKind.Forward, code);
                }
                break;
            case FrontendCode.Close:
                RewriteClose(message, TargetedMessage.Read(body, "Close"));
                break;
            case FrontendCode.Query:
                Catalog.Unnamed = default; // a simple Query replaces the engine's unnamed statement
                RewriteQuery(message, QueryMessage.ReadSql(body));
                break;
            default:
                Forward(code, message);
                break;
        }
    }

    private void RewriteQuery(ReadOnlySpan<byte> message, string sql)
    {
        var analysis = SqlAnalysis.Of(sql);
        var reset = analysis.LocalResetTag;
        if (reset == "DISCARD ALL" && _status == TransactionStatus.Idle)
        {
            // Npgsql's pool reset: it must discard this client's state only, not everyone's.
            _effects.DiscardAllAnswered = true;
            Expect(ExpectKind.Synthesize, FrontendCode.Query, CompletedQueryReply("DISCARD ALL"));
            return;
        }
        if (reset == "DEALLOCATE ALL")
        {
            _effects.DeallocateAllAnswered = true;
            Expect(ExpectKind.Synthesize, FrontendCode.Query, CompletedQueryReply("DEALLOCATE ALL"));
            return;
        }
        _effects.DeallocatesAll = analysis.DeallocatesAll;
        _effects.Add(analysis.Effects);
        var rewritten = analysis.Rewrite(ProcessId, ListeningChannels);
        if (TryAutoPrepare(ReferenceEquals(rewritten, sql) ? analysis : SqlAnalysis.Of(rewritten), out var onPlainCompleted))
            return;
        if (ReferenceEquals(rewritten, sql))
            _engineBatch.Append(message);
        else
            QueryMessage.Write(_engineBatch, rewritten);
        Expect(ExpectKind.Forward, FrontendCode.Query, onCompleted: onPlainCompleted);
    }

    private byte[] CompletedQueryReply(string tag)
    {
        var reply = new System.Buffers.ArrayBufferWriter<byte>();
        CommandComplete.Write(reply, tag);
        ReadyForQuery.Write(reply, _status);
        return reply.WrittenSpan.ToArray();
    }

    /// <summary>
    /// DISCARD ALL / DEALLOCATE ALL (a pool's reset) drops every engine statement, other clients' too:
    /// they are prepared again when next used, and this client's own names are gone as in Postgres.
    /// </summary>
    private void ForgetEngineStatements(bool keepUnnamed)
    {
        Catalog.Forget();
        var unnamed = _statements.LastUnnamedParse;
        _statements.Clear();
        if (keepUnnamed)
            _statements.LastUnnamedParse = unnamed; // the unnamed statement is not deallocated; it is parsed again when used
    }

    /// <summary>True when a Bind of <paramref name="clientName"/> makes a portal that runs DISCARD ALL / DEALLOCATE ALL.</summary>
    private bool BindsStatementReset(ReadOnlySpan<byte> clientName)
    {
        if (clientName.IsEmpty)
            return _statements.UnnamedDeallocatesAll;
        return _statements.TryGet(Encoding.UTF8.GetString(clientName), out var statement) && statement.DeallocatesAll;
    }

    /// <summary>
    /// Raises <paramref name="error"/> at this point of the extended sequence: a Parse that fails in
    /// the engine makes it abort the transaction and skip to Sync exactly as Postgres would for ours.
    /// </summary>
    private void RaiseInEngine(PgError error)
    {
        ParseMessage.Write(_engineBatch, [], FailingSql, NoParameterTypes);
        Catalog.Unnamed = default;
        _expectations.Add(new Expectation(ExpectKind.ReplaceError, FrontendCode.Parse, Error: error));
    }

    private void Forward(FrontendCode code, ReadOnlySpan<byte> message)
    {
        _engineBatch.Append(message);
        Expect(ExpectKind.Forward, code);
    }

    private void Expect(ExpectKind kind, FrontendCode code, byte[]? reply = null, Action<bool>? onCompleted = null)
        => _expectations.Add(new Expectation(kind, code, reply, null, onCompleted));
}
