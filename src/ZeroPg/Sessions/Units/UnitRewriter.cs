using System.Buffers;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;
using ZeroPg.Protocol.Frontend;
using ZeroPg.Sql;

namespace ZeroPg.Sessions;

/// <summary>
/// Turns a run of accepted client messages into the batch the shared engine session must see: the
/// preamble restoring the client's engine state (<see cref="EngineStateRestore"/>), statement names mapped
/// (<see cref="StatementMapping"/>), SQL rewritten (<see cref="SqlAnalysis.Rewrite"/>), repeated Queries
/// auto-prepared (<see cref="AutoPrepare"/>), and what ZeroPg answers itself queued in the reply plan.
/// Works from what was parsed when the messages were accepted. Thread: the session, holding the engine.
/// </summary>
internal sealed class UnitRewriter(StatementMapping statements, AutoPrepare auto, EngineStateRestore restore, ProtocolState state,
    SessionIdentity identity, ClientNotifications notifications, SessionSettings settings, SessionStates states, SessionServices services, TempRelations? temp = null)
{
    private readonly Func<string[]> _channels = () => notifications.Channels;
    private readonly ClientsView _clients = new(services.Registry, identity, services, temp);

    /// <summary>Builds <paramref name="batch"/> from the first <paramref name="count"/> messages of <paramref name="client"/>.</summary>
    public void Build(EngineBatch batch, ClientBatch client, int count, bool guarded = false)
    {
        batch.Clear();
        statements.BeginUnit();
        restore.WritePreamble(batch, guarded);
        _copyBound.Clear();
        _refuseCopyExecute = true;
        try
        {
            for (var i = 0; i < count; i++)
            {
                var message = client.Messages[i];
                Rewrite(batch, message, client.Bytes(message));
            }
        }
        finally
        {
            _refuseCopyExecute = false;
        }
    }

    /// <summary>
    /// Portals a Bind of this batch binds to a COPY FROM STDIN, as the names resolve when the batch is built. A unit run as an
    /// ordinary one (not the COPY path, <see cref="CopyIn"/>) never executes one: the COPY would wait for data its call does not
    /// hold, and PGlite ends on the next message, the engine of every client with it. The acceptor's check (<see cref="CopyPortals"/>)
    /// resolves names before the units ahead of the Bind ran; this one, the last before the engine, sees them as they are (the
    /// fuzzer found two shapes the acceptor's missed: DEALLOCATE ALL before a Parse of the name, and one it has not named).
    /// </summary>
    private readonly HashSet<string> _copyBound = new(StringComparer.Ordinal);
    private bool _refuseCopyExecute;

    /// <summary>
    /// Builds <paramref name="batch"/> from messages <paramref name="first"/>.. of <paramref name="client"/>, after the preamble
    /// (and <paramref name="afterPreamble"/>, a Query of ZeroPg's own swallowed with it) when <paramref name="preamble"/>.
    /// </summary>
    public void Build(EngineBatch batch, ClientBatch client, int first, int count, bool preamble, string? afterPreamble = null)
    {
        batch.Clear();
        statements.BeginUnit();
        if (preamble)
            restore.WritePreamble(batch);
        if (afterPreamble is not null)
            batch.AddPreambleQuery(afterPreamble);
        for (var i = first; i < first + count; i++)
        {
            var message = client.Messages[i];
            Rewrite(batch, message, client.Bytes(message));
        }
    }

    /// <summary>The first <paramref name="count"/> messages of <paramref name="client"/> call session advisory lock functions (ZeroPg's must be installed before they are built).</summary>
    public static bool UsesAdvisoryLocks(ClientBatch client, int count)
    {
        for (var i = 0; i < count; i++)
        {
            if (client.Messages[i] is { Code: FrontendCode.Query or FrontendCode.Parse, Sql.Effects.UsesAdvisoryLocks: true })
                return true;
        }
        return false;
    }

    private void Rewrite(EngineBatch batch, ClientMessage message, ReadOnlySpan<byte> bytes)
    {
        if (message.Refusal is { } refusal)
        {
            if (message.Code == FrontendCode.Parse)
                RefuseParse(batch, message.StatementName!, refusal);
            else
                statements.RaiseInEngine(batch, refusal);
            return;
        }
        switch (message.Code)
        {
            case FrontendCode.Parse:
                RewriteParse(batch, message, bytes);
                break;
            case FrontendCode.Bind:
                var bound = statements.StatementSql(message.StatementName!); // looked up once: every prepared statement's run passes here
                if (_refuseCopyExecute && bound is { CopiesFromStdin: true })
                    _copyBound.Add(message.PortalName!);
                else
                    _copyBound.Remove(message.PortalName!);
                if (bound is { ReadsPreparedStatements: true })
                    statements.WritePreparedStatements(batch);
                if (bound is not null)
                    batch.Effects.AddSettings(bound.Effects); // a prepared set_config changes settings at each run, not at its Parse
                statements.Bind(batch, bytes, message.PortalName!, message.StatementName!);
                break;
            case FrontendCode.Execute when _refuseCopyExecute && _copyBound.Contains(message.PortalName!):
                statements.RaiseInEngine(batch, RefusedStatements.CopyPortalNotAfterBind); // an error of the sequence: the engine skips to its Sync
                break;
            case FrontendCode.Execute:
                statements.Execute(batch, bytes, message.PortalName!);
                break;
            case FrontendCode.Describe when message.TargetsStatement:
                statements.DescribeStatement(batch, message.StatementName!);
                break;
            case FrontendCode.Close when message.TargetsStatement:
                statements.CloseStatement(batch, bytes, message.StatementName!);
                break;
            case FrontendCode.Describe or FrontendCode.Close:
                Portals.PortalNames.ForwardTargeted(batch, message.Code, bytes, identity.ProcessId, message.PortalName!);
                break;
            case FrontendCode.FunctionCall:
                batch.Effects.SettingsMayChange(); // by object id: it may be set_config (2078), which no SQL shows
                batch.Forward(message.Code, bytes);
                break;
            case FrontendCode.Sync:
                statements.SequenceEnded();
                batch.Forward(message.Code, bytes);
                break;
            case FrontendCode.Query:
                statements.QueryReplacesUnnamed();
                RewriteQuery(batch, bytes, message.Sql!);
                break;
            default:
                batch.Forward(message.Code, bytes);
                break;
        }
    }

    private void RewriteParse(EngineBatch batch, ClientMessage message, ReadOnlySpan<byte> bytes)
    {
        var sql = message.Sql!;
        if (RefusedStatements.Find(sql, identity, services.Registry) is { } refusal)
        {
            RefuseParse(batch, message.StatementName!, refusal);
            return;
        }
        auto.NoteSchemaChange(sql, singleStatement: true);
        states.Observe(sql);
        batch.Effects.Add(sql.Effects);
        // SQL EXECUTE / DEALLOCATE / PREPARE sent by Parse (psycopg, asyncpg): in the client's one namespace, unnamed or named.
        var names = message.StatementName!.Length == 0 ? statements.ForQuery(batch, sql, canPrepare: true, sync: false) : statements.ForNamedParse(batch, sql);
        ListenForSignals(batch, sql);
        var rewritten = sql.Rewrite(identity.ProcessId, _channels, names, _clients);
        if (ReferenceEquals(rewritten, sql.Sql))
        {
            statements.Parse(batch, bytes, message.StatementName!, sql, rewritten: false);
            return;
        }
        var original = ParseMessage.FromMessage(bytes);
        var parse = new ArrayBufferWriter<byte>();
        ParseMessage.Write(parse, original.StatementName, System.Text.Encoding.UTF8.GetBytes(rewritten), original.ParameterTypes);
        statements.Parse(batch, parse.WrittenSpan, message.StatementName!, sql, rewritten: true, names);
    }

    /// <summary>A Parse refused in place: as one that fails in Postgres, it leaves the client no unnamed statement, a named one as it was.</summary>
    private void RefuseParse(EngineBatch batch, string name, PgError refusal)
    {
        if (name.Length == 0)
            statements.Own.SetUnnamed(null, null);
        statements.RaiseInEngine(batch, refusal);
    }

    private void RewriteQuery(EngineBatch batch, ReadOnlySpan<byte> bytes, SqlAnalysis sql)
    {
        var reset = sql.LocalResetTag;
        if (reset == "DISCARD ALL" && state.Status == TransactionStatus.Idle)
        {
            // Npgsql's pool reset: it must discard this client's state only, not everyone's. Npgsql writes it in front of
            // the next batch, so what it drops goes here, in order: the statements and LISTENs that follow it stay.
            statements.WriteDeallocateMadeBySql(batch);
            settings.WriteDiscardAll(batch, services.EngineState);
            statements.Own.Clear();
            batch.Effects.Listen.Clear();
            batch.Effects.Unlisten.Clear();
            batch.Effects.DiscardAllAnswered = true;
            batch.Plan.Expect(ExpectKind.Synthesize, FrontendCode.Query, CompletedQueryReply(reset));
            return;
        }
        if (reset == "DEALLOCATE ALL")
        {
            statements.WriteDeallocateMadeBySql(batch);
            statements.Own.Clear();
            batch.Effects.DeallocateAllAnswered = true;
            batch.Plan.Expect(ExpectKind.Synthesize, FrontendCode.Query, CompletedQueryReply(reset));
            return;
        }
        batch.Effects.DeallocatesAll |= sql.DeallocatesAll;
        states.Observe(sql);
        batch.Effects.Add(sql.Effects);
        var names = statements.ForQuery(batch, sql, canPrepare: !state.SequenceOpenInEngine);
        if (sql.ReadsPreparedStatements)
            statements.WritePreparedStatements(batch);
        ListenForSignals(batch, sql);
        var rewritten = sql.Rewrite(identity.ProcessId, _channels, names, _clients);
        var sent = ReferenceEquals(rewritten, sql.Sql) ? sql : SqlAnalysis.Of(rewritten);
        Action<bool>? onPlainCompleted = null;
        if (names is null && auto.TryWrite(batch, sent, state.Status, out onPlainCompleted))
            return;
        if (ReferenceEquals(sent, sql))
            batch.Buffer.Append(bytes);
        else
            QueryMessage.Write(batch.Buffer, rewritten);
        if (names is not null)
            batch.Plan.Add(new Expectation(ExpectKind.Forward, FrontendCode.Query, OnCompleted: names.Completed, ClientNames: names.ClientNames));
        else
            batch.Plan.Expect(ExpectKind.Forward, FrontendCode.Query, onCompleted: onPlainCompleted);
    }

    /// <summary>pg_terminate_backend / pg_cancel_backend tell ZeroPg through a notification the engine session must listen to (a DISCARD ALL may have unlistened it).</summary>
    private static void ListenForSignals(EngineBatch batch, SqlAnalysis sql)
    {
        if (!sql.SignalsBackends)
            return;
        QueryMessage.Write(batch.Buffer, SqlEdit.SignalListenSql);
        batch.Plan.Expect(ExpectKind.Swallow, FrontendCode.Query);
    }

    private byte[] CompletedQueryReply(string tag)
    {
        var reply = new ArrayBufferWriter<byte>();
        CommandComplete.Write(reply, tag);
        ReadyForQuery.Write(reply, state.Status);
        return reply.WrittenSpan.ToArray();
    }
}
