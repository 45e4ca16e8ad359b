using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;
using ZeroPg.Protocol.Frontend;
using ZeroPg.Sql;

namespace ZeroPg.Sessions.Portals;

/// <summary>
/// Portals suspended outside a transaction block do not hold the engine. When a client's unit ends without Sync after an
/// Execute with a row limit (pg-cursor, pgjdbc's fetch size, tokio-postgres and psycopg portals: Execute n, Flush, ... Close,
/// Sync) and the client has no transaction block open, the engine would stay pinned to it until its Sync, however long it
/// reads. Instead ZeroPg reads the rest of that portal in the same snapshot (in pieces, spooled by <see cref="RowSpool"/>), closes
/// it and ends the implicit transaction in the engine, gives the engine up, and answers the client's later Execute, Describe
/// and Close of that portal, and its Sync, itself, with Postgres's framing: DataRows then PortalSuspended while rows are left,
/// else CommandComplete ("SELECT n" counting that Execute's rows, as Postgres counts them). Inside a transaction block
/// nothing changes. Thread: the session.
/// </summary>
internal sealed class SuspendedPortals(ProtocolState state, SessionIdentity identity, PipeWriter output) : ISessionState
{
    /// <summary>Rows per engine call while reading ahead: a few MB at most for usual rows.</summary>
    private const int Piece = 5000;

    private readonly Dictionary<string, ReadAhead> _portals = new(StringComparer.Ordinal);

    /// <summary>A client message after an error read ahead: skipped until its Sync, as Postgres skips.</summary>
    private bool _skipping;

    /// <summary>Reading ahead met an error: the engine's sequence stays open, to be ended by the client's Sync.</summary>
    private bool _engineAwaitsSync;

    /// <summary>
    /// Portals run by an Execute with a row limit since the client's transaction block began: inside a block they stay in the engine
    /// (not read ahead) and die with the transaction; an engine restart under it ends the client naming them
    /// (<see cref="ISessionState.DiesWithTransaction"/>). Cleared when the client is seen outside a block.
    /// </summary>
    private readonly SortedSet<string> _inTransaction = new(StringComparer.Ordinal);

    /// <summary>Portals read ahead and not yet closed (tests).</summary>
    public int Count => _portals.Count;

    /// <summary>The SQL of each named or unnamed portal bound since the client's last Sync (a re-run of a finished DML portal would fail).</summary>
    private readonly Dictionary<string, SqlAnalysis?> _bound = new(StringComparer.Ordinal);

    /// <summary>
    /// The portal the first <paramref name="count"/> messages leave suspended when they run: their last Execute has a row limit, no Sync
    /// follows, and the portal runs a query (SELECT, VALUES, TABLE, WITH: running it again once it is done reads nothing, where a
    /// finished INSERT / UPDATE / DELETE portal would fail and roll back its work). Notes the portals the messages bind.
    /// </summary>
    public string? Candidate(ClientBatch client, int count, StatementMapping statements)
    {
        string? candidate = null;
        if (state.Transaction == TransactionState.Idle)
            _inTransaction.Clear(); // the block they were bound in ended
        for (var i = 0; i < count; i++)
        {
            var message = client.Messages[i];
            if (message.Code == FrontendCode.Close && !message.TargetsStatement)
                _inTransaction.Remove(message.PortalName!);
            switch (message.Code)
            {
                case FrontendCode.Sync or FrontendCode.Query:
                    _bound.Clear();
                    candidate = null;
                    break;
                case FrontendCode.Bind:
                    _bound[message.PortalName!] = BoundSql(client, i, statements);
                    candidate = null;
                    break;
                case FrontendCode.Close or FrontendCode.FunctionCall or FrontendCode.Parse:
                    candidate = null;
                    break;
                case FrontendCode.Execute:
                    var limited = ExecuteMessage.Read(client.Bytes(message)[MessageFramer.HeaderLength..]).MaxRows > 0;
                    if (limited)
                        _inTransaction.Add(message.PortalName!); // named only while a transaction block is open (DiesWithTransaction)
                    candidate = limited && _bound.GetValueOrDefault(message.PortalName!) is { } sql && IsQuery(sql) ? message.PortalName : null;
                    break;
            }
        }
        return candidate;
    }

    private static SqlAnalysis? BoundSql(ClientBatch client, int bind, StatementMapping statements)
    {
        var name = client.Messages[bind].StatementName!;
        for (var i = bind - 1; i >= 0; i--)
        {
            if (client.Messages[i] is { Code: FrontendCode.Parse } parse && parse.StatementName == name)
                return parse.Sql;
        }
        return statements.StatementSql(name);
    }

    private static bool IsQuery(SqlAnalysis sql)
    {
        if (!sql.IsWellFormed || sql.NonEmptyStatementCount != 1)
            return false;
        var first = sql.Tokens[sql.Statements[0].Start];
        return first.IsWord(sql.Sql, "SELECT") || first.IsWord(sql.Sql, "VALUES") || first.IsWord(sql.Sql, "TABLE") || first.IsWord(sql.Sql, "WITH")
            || first.IsPunct(sql.Sql, '(');
    }

    /// <summary>
    /// After a run that left <paramref name="portal"/> suspended (<see cref="Candidate"/>): with no transaction block open, reads it to its
    /// end, closes it and ends the implicit transaction, so the engine can be released. Called holding the engine.
    /// </summary>
    public async Task ReadAheadAsync(string portal, EngineLink link)
    {
        if (state.Transaction != TransactionState.Idle || !state.SequenceOpenInEngine || state.InCopy || link.Reply.SkippingToSync)
            return; // in a transaction block, or the run failed (the engine ignores all until the client's Sync)
        var engineName = PortalNames.Engine(identity.ProcessId, portal);
        var read = new ReadAhead();
        var describe = new BatchBuffer();
        TargetedMessage.Write(describe, FrontendCode.Describe, TargetedMessage.Portal, engineName);
        EmptyFrontendMessage.Write(describe, FrontendCode.Flush);
        if (!read.Consume(await link.RunOwnSqlAsync(ReplyMode.Capture, describe, clientQuery: true)))
            return; // no answer: the engine skips to the client's Sync after an error of its sequence; nothing to read ahead
        while (read.End is null)
        {
            var piece = new BatchBuffer();
            ExecuteMessage.Write(piece, engineName, Piece);
            EmptyFrontendMessage.Write(piece, FrontendCode.Flush);
            if (!read.Consume(await link.RunOwnSqlAsync(ReplyMode.Capture, piece, clientQuery: true)))
                throw new InvalidOperationException("the engine answered nothing to an Execute of a suspended portal");
        }
        if (read.Error is null)
        {
            var close = new BatchBuffer();
            TargetedMessage.Write(close, FrontendCode.Close, TargetedMessage.Portal, engineName);
            EmptyFrontendMessage.Write(close, FrontendCode.Sync);
            await link.RunOwnSqlAsync(ReplyMode.Discard, close);
            state.Sent(sequenceOpen: false);
        }
        else
        {
            // The rest of the portal failed: the engine skips to Sync and stays with the client, whose own Sync (after it met the
            // error among the rows read ahead) goes to the engine. (A Sync of ours here left PGlite skipping the client's next sequence.)
            _engineAwaitsSync = true;
        }
        if (_portals.Remove(portal, out var old))
            old.Dispose();
        _portals[portal] = read;
    }

    /// <summary>
    /// Answers the leading messages of the first <paramref name="count"/> that concern portals read ahead (Execute, Describe and Close
    /// of them, Flush, and the Sync that ends the client's sequence); returns how many were answered.
    /// </summary>
    public int AnswerLeading(ClientBatch client, int count)
    {
        if (_portals.Count == 0 && !_skipping)
            return 0;
        var answered = 0;
        for (; answered < count; answered++)
        {
            var message = client.Messages[answered];
            if (message.Code == FrontendCode.Sync && _engineAwaitsSync)
            {
                _engineAwaitsSync = false;
                _skipping = false;
                DisposeAll();
                return answered; // the engine answers it
            }
            if (message.Code == FrontendCode.Sync)
            {
                _skipping = false;
                DisposeAll(); // non-holdable portals end with the implicit transaction
                ReadyForQuery.Write(output, state.Status);
                answered++;
                break;
            }
            if (_skipping && message.Code is not (FrontendCode.Query))
                continue;
            if (message.Code == FrontendCode.Flush)
                continue;
            if (message.PortalName is not { } name || message.TargetsStatement || !_portals.TryGetValue(name, out var portal))
                break;
            switch (message.Code)
            {
                case FrontendCode.Execute:
                    var limit = ExecuteMessage.Read(client.Bytes(message)[MessageFramer.HeaderLength..]).MaxRows;
                    _skipping = !portal.Answer(output, limit);
                    break;
                case FrontendCode.Describe:
                    output.Write(portal.Description ?? NoDataReply);
                    break;
                case FrontendCode.Close:
                    _portals.Remove(name);
                    portal.Dispose();
                    EmptyMessage.Write(output, BackendCode.CloseComplete);
                    break;
                default: // a Bind making the portal again: the engine's from now on
                    _portals.Remove(name);
                    portal.Dispose();
                    return answered;
            }
        }
        return answered;
    }

    /// <summary>
    /// Portals read ahead live in ZeroPg, their rows read in full (spooled) and closed in the engine: a restart does not touch them.
    /// Portals suspended in the engine inside a transaction block die with that transaction, whose loss ends the client (or, for the
    /// client whose ignored cancel the restart stopped, aborts its block until ROLLBACK, as Postgres's cancel does): not answered here.
    /// </summary>
    RestartOutcome ISessionState.Restarted()
    {
        _inTransaction.Clear();
        return _portals.Count == 0 ? RestartOutcome.NothingHeld
            : RestartOutcome.Restored("portals read ahead: their rows are ZeroPg's and answered from there");
    }

    string? ISessionState.DiesWithTransaction() => _inTransaction.Count == 0 || state.Transaction == TransactionState.Idle ? null
        : $"portals suspended in its transaction block ({string.Join(", ", _inTransaction.Select(name => name.Length == 0 ? "the unnamed portal" : name))})";

    /// <summary>The client left mid-cursor: the rows read ahead (and their spool file) go at once, not when the collector finds them.</summary>
    void ISessionState.Ended() => DisposeAll();

    public void DisposeAll()
    {
        foreach (var portal in _portals.Values)
            portal.Dispose();
        _portals.Clear();
    }

    private static readonly byte[] NoDataReply = [(byte)BackendCode.NoData, 0, 0, 0, 4];

    /// <summary>One portal's rows read ahead and how it ended.</summary>
    private sealed class ReadAhead : IDisposable
    {
        private readonly RowSpool _rows = new();
        private long _readAheadRows;
        private bool _finished;

        public byte[]? Description { get; private set; }
        public byte[]? End { get; private set; }
        public byte[]? Error { get; private set; }

        /// <summary>Takes an engine reply in; false when it held nothing of the portal.</summary>
        public bool Consume(IReadOnlyList<byte[]> reply)
        {
            var any = false;
            foreach (var message in reply)
            {
                any |= (BackendCode)message[0] is BackendCode.RowDescription or BackendCode.NoData or BackendCode.DataRow or BackendCode.CommandComplete
                    or BackendCode.EmptyQueryResponse or BackendCode.ErrorResponse or BackendCode.PortalSuspended;
                switch ((BackendCode)message[0])
                {
                    case BackendCode.RowDescription:
                        Description = message;
                        break;
                    case BackendCode.DataRow:
                        _rows.Add(message);
                        _readAheadRows++;
                        break;
                    case BackendCode.CommandComplete or BackendCode.EmptyQueryResponse:
                        End = message;
                        break;
                    case BackendCode.ErrorResponse:
                        End = Error = message;
                        break;
                }
            }
            return any;
        }

        /// <summary>An Execute of up to <paramref name="limit"/> rows (0: all); false when it ended in the portal's error.</summary>
        public bool Answer(PipeWriter output, int limit)
        {
            var sent = 0;
            while ((limit == 0 || sent < limit) && _rows.Take() is { } row)
            {
                output.Write(row);
                sent++;
            }
            if (_rows.Count > 0)
            {
                EmptyMessage.Write(output, BackendCode.PortalSuspended);
                return true;
            }
            if (Error is not null && !_finished)
            {
                _finished = true;
                output.Write(Error);
                return false;
            }
            output.Write(_finished ? Tag(0) : Tag(sent));
            _finished = true;
            return true;
        }

        /// <summary>The portal's CommandComplete for an Execute that sent <paramref name="sent"/> rows: SELECT counts that Execute's rows.</summary>
        private byte[] Tag(int sent)
        {
            var tag = Encoding.ASCII.GetString(CommandComplete.ReadTag(End.AsSpan(MessageFramer.HeaderLength)));
            if (!tag.StartsWith("SELECT ", StringComparison.Ordinal) || !long.TryParse(tag.AsSpan(7), out var counted) || counted > _readAheadRows)
                return End!; // INSERT ... RETURNING and the like: the whole statement's tag
            var reply = new System.Buffers.ArrayBufferWriter<byte>();
            CommandComplete.Write(reply, $"SELECT {sent}");
            return reply.WrittenSpan.ToArray();
        }

        public void Dispose() => _rows.Dispose();
    }
}
