using System.Buffers;
using System.IO.Pipelines;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Frontend;
using ZeroPg.Replication.Slots;
using ZeroPg.Replication.Stream;

namespace ZeroPg.Replication.Walsender;

/// <summary>How a stream ended.</summary>
internal enum StreamEnd { CopyDone, Cancelled, Disconnected, ServerStopping, Terminated, Invalidated }

/// <summary>
/// One START_REPLICATION ... LOGICAL stream, from CopyBothResponse until the client's CopyDone, a CancelRequest or
/// a disconnect. Every <see cref="PollInterval"/> it asks the engine (through the scheduler, like any client, never
/// holding it between polls) for the whole transactions committed since it last looked, and sends them in commit
/// order. Transactions whose commit LSN is below max(requested LSN, the slot's confirmed_flush_lsn) are skipped, so
/// nothing confirmed is sent again and everything unconfirmed is. Standby status updates move confirmed_flush_lsn
/// (written to the slot at the next poll). A keepalive asking for a reply goes out after
/// <see cref="KeepaliveInterval"/> without traffic; its WAL end is the position up to which every committed
/// transaction has been sent, so a client that confirms it loses nothing. Thread: the session's.
/// </summary>
internal sealed class LogicalStream(PipeReader input, PipeWriter output, EngineQuery query, ReplicationSlot slot, PgOutputOptions options, Lsn requested,
    WalsenderProgress? progress = null, StreamedTransaction? streaming = null)
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);
    public static readonly TimeSpan KeepaliveInterval = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan PurgeInterval = TimeSpan.FromSeconds(30);
    private const int MaxTransactionsPerPoll = 200;

    private readonly TransactionEncoder _encoder = new(options.Messages);
    /// <summary>Prepared transactions decoded at PREPARE (Capture/TwoPhasePrepares): the slot has two_phase (enabled by this stream's
    /// option if not before), as Postgres decodes a two-phase slot whether or not a later stream asks again.</summary>
    private readonly bool _twoPhase = slot.TwoPhase;
    private readonly Lsn _from = requested > slot.ConfirmedFlush ? requested : slot.ConfirmedFlush;
    private long _afterSeq;
    private Lsn _sentUpTo;
    private Lsn _confirmed = slot.ConfirmedFlush;
    private Lsn _persisted = slot.ConfirmedFlush;
    private DateTime _lastSent = DateTime.UtcNow;
    private DateTime _lastPurge = DateTime.MinValue;
    private bool _invalidated;

    public async Task<StreamEnd> RunAsync(CancellationToken cancel)
    {
        _sentUpTo = _from;
        WalsenderReplies.CopyBothResponse(output);
        await output.FlushAsync(CancellationToken.None);
        Task<ReadResult>? read = null;
        var nextPoll = DateTime.UtcNow;
        try
        {
            while (true)
            {
                if (cancel.IsCancellationRequested)
                    return StreamEnd.Cancelled;
                var now = DateTime.UtcNow;
                if (now >= nextPoll)
                {
                    var more = await PollAsync();
                    if (_invalidated)
                        return StreamEnd.Invalidated;
                    nextPoll = more ? DateTime.UtcNow : DateTime.UtcNow + PollInterval; // a backlog is read without pausing
                }
                if (DateTime.UtcNow - _lastSent >= KeepaliveInterval)
                    await SendAsync(new PrimaryKeepalive(_sentUpTo, PgTimestamp.FromDateTime(DateTime.UtcNow), ReplyRequested: true).Encode());

                read ??= input.ReadAsync(cancel).AsTask();
                var wait = nextPoll - DateTime.UtcNow;
                if (wait > TimeSpan.Zero)
                    await Task.WhenAny(read, Task.Delay(wait, cancel));
                if (!read.IsCompleted)
                    continue;
                ReadResult result;
                try
                {
                    result = await read;
                }
                catch (OperationCanceledException)
                {
                    read = null;
                    return StreamEnd.Cancelled;
                }
                read = null;
                var end = Consume(result);
                if (end is not null)
                    return end.Value;
            }
        }
        finally
        {
            if (read is not null)
            {
                try
                {
                    var pending = await read;
                    input.AdvanceTo(pending.Buffer.Start); // whatever came stays for the session
                }
                catch (OperationCanceledException)
                {
                }
            }
            ConsumeBufferedStatusUpdates();
            if (_confirmed > _persisted)
                await TryPersistAsync();
        }
    }

    /// <summary>
    /// At the stream's end, the status updates already in the input: a client that confirms and then closes (or cancels) can have its
    /// last confirmation in the pipe when the close cancels the read, and Postgres reads what is on the socket before it stops.
    /// Stops at the first message that is not CopyData, which stays for the session.
    /// </summary>
    private void ConsumeBufferedStatusUpdates()
    {
        if (!input.TryRead(out var result))
            return;
        var buffer = result.Buffer;
        var consumed = buffer.Start;
        while (FrontendFramer.TryReadMessage(ref buffer, 1 << 20, out var code, out var message) && code == FrontendCode.CopyData)
        {
            ApplyStatusUpdate(message);
            consumed = buffer.Start;
        }
        input.AdvanceTo(consumed);
    }

    private void ApplyStatusUpdate(ReadOnlySequence<byte> message)
    {
        if (!StandbyStatusUpdate.TryParse(Protocol.Frontend.CopyDataMessage.ReadPayload(message), out var status))
            return; // 'h' (hot standby feedback) and others: nothing to do for a logical slot
        if (status.Flushed > _confirmed)
            _confirmed = status.Flushed;
        progress?.Reply(status.Written, status.Flushed, status.Applied, PgTimestamp.ToDateTime(status.ClientTime));
    }

    /// <summary>The client's messages in one read; an end when one ends the stream (what follows stays in the pipe).</summary>
    private StreamEnd? Consume(ReadResult result)
    {
        if (result.IsCanceled)
            return StreamEnd.ServerStopping; // the session's read was cancelled: the server is stopping (ClientSession.RequestShutdown)
        var buffer = result.Buffer;
        try
        {
            while (FrontendFramer.TryReadMessage(ref buffer, 1 << 20, out var code, out var message))
            {
                switch (code)
                {
                    case FrontendCode.CopyData:
                        ApplyStatusUpdate(message);
                        break;
                    case FrontendCode.CopyDone:
                        return StreamEnd.CopyDone;
                    case FrontendCode.Terminate:
                        return StreamEnd.Disconnected;
                    default:
                        throw new PgErrorException(PgError.Fatal(SqlState.ProtocolViolation, $"unexpected message type \"{(char)code}\" during COPY BOTH"));
                }
            }
            return result.IsCompleted ? StreamEnd.Disconnected : null;
        }
        finally
        {
            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>Sends what was committed since the last poll; true when the fetch was cut short (more is waiting).</summary>
    private async Task<bool> PollAsync()
    {
        var statements = new List<string>();
        if (_confirmed > _persisted)
            statements.Add(SlotSql.Confirm(slot.Name, _confirmed));
        var purge = _persisted > slot.ConfirmedFlush && DateTime.UtcNow - _lastPurge > PurgeInterval;
        if (purge)
        {
            statements.Add(SlotSql.Purge);
            _lastPurge = DateTime.UtcNow;
        }
        var first = statements.Count;
        statements.Add(SlotSql.Invalidation(slot.Name));
        statements.Add("SELECT pg_catalog.pg_current_wal_insert_lsn()::text");
        statements.Add(PublicationSet.Sql(options.Publications));
        statements.Add(_twoPhase ? CapturedChange.FetchTwoPhaseSql(_afterSeq, _from, MaxTransactionsPerPoll) : CapturedChange.FetchSql(_afterSeq, _from, MaxTransactionsPerPoll));
        var results = await query(statements);
        _persisted = _confirmed > _persisted ? _confirmed : _persisted;
        if (results[first] is not [[""]])
        {
            _invalidated = true; // past max_slot_wal_keep_size (zeropg_repl.invalidate_slots), or gone
            return false;
        }
        first++;
        Lsn.TryParse(results[first][0][0], out var current);
        var published = PublicationSet.FromRows(results[first + 1]);
        var changes = results[first + 2].Select(CapturedChange.FromRow).ToList();
        var transactions = Group(changes);
        if (transactions.Count > 0)
        {
            // A partition published as its root needs both shapes: the root's is sent, the partition's orders the recorded row.
            var needed = changes.Where(c => c.RelationOid is { } oid && published.Publishes(published.PublishedAs(oid), c.Op))
                .SelectMany(c => new[] { c.RelationOid!.Value, published.PublishedAs(c.RelationOid!.Value) }).Distinct().ToList();
            var relations = RelationShapes.Empty;
            var binary = BinaryValues.None;
            var rows = RowFilterMatches.None;
            if (needed.Count > 0)
            {
                var described = await query(options.Binary
                    ? [PublishedRelation.ShapesSql(needed), BinaryValues.SendFunctionsSql(needed)]
                    : [PublishedRelation.ShapesSql(needed)]);
                relations = RelationShapes.FromRows(described[0]);
                if (options.Binary)
                    binary = await BinaryAsync(changes, published, relations, described[1]);
                var filtered = changes.Where(c => c.Op is 'I' or 'U' or 'D' && published.FiltersRows(published.PublishedAs(c.RelationOid!.Value))).ToList();
                if (filtered.Count > 0)
                {
                    var tables = filtered.Select(c => c.RelationOid!.Value).Distinct().Select(oid => (oid, published.PublishedAs(oid))).ToList();
                    rows = RowFilterMatches.FromRows((await query([RowFilterMatches.Sql(options.Publications, tables, filtered.Select(c => c.Seq))]))[0]);
                }
            }
            foreach (var tx in transactions)
            {
                var commitLsn = TransactionEncoder.CommitLsn(tx);
                _afterSeq = tx[^1].Seq;
                if (commitLsn < _from)
                    continue;
                var ordinary = !_twoPhase || tx[^1].Op is not ('P' or 'K');
                var streamed = ordinary && streaming?.Applies(tx) == true; // a prepare is never streamed here: it goes out whole
                var frames = _twoPhase
                    ? _encoder.EncodeTwoPhase(tx, slot.TwoPhaseAt, published, relations, binary, rows, streamed)
                    : _encoder.Encode(tx, published, relations, binary, rows, streamed);
                foreach (var frame in streamed ? streaming!.Wrap(frames, tx) : frames)
                    WalsenderReplies.CopyData(output, new XLogData(frame.Lsn, frame.Lsn, PgTimestamp.FromDateTime(DateTime.UtcNow), frame.Payload).Encode());
                var end = TransactionEncoder.EndLsn(tx);
                if (end > _sentUpTo)
                    _sentUpTo = end;
                _lastSent = DateTime.UtcNow;
            }
            await output.FlushAsync(CancellationToken.None);
        }
        // Everything committed below the position read before the fetch has been sent, unless the fetch was cut short.
        if (transactions.Count < MaxTransactionsPerPoll && current > _sentUpTo)
            _sentUpTo = current;
        progress?.Sent(_sentUpTo);
        return transactions.Count >= MaxTransactionsPerPoll;
    }

    /// <summary>Send-function bytes of the published I/U/D changes.</summary>
    private async Task<BinaryValues> BinaryAsync(List<CapturedChange> changes, PublicationSet published, RelationShapes relations, IReadOnlyList<string?[]> sendFunctions)
    {
        var seqs = new Dictionary<uint, List<long>>();
        var older = new List<long>();
        foreach (var change in changes)
        {
            if (change.Op is not ('I' or 'U' or 'D') || change.RelationOid is not { } oid || !published.Publishes(published.PublishedAs(oid), change.Op))
                continue;
            if (!relations.IsCurrent(oid, change.Lsn))
            {
                older.Add(change.Seq);
                continue;
            }
            if (!seqs.TryGetValue(oid, out var list))
                seqs[oid] = list = [];
            list.Add(change.Seq);
        }
        List<string> statements = BinaryValues.ValuesSql(sendFunctions, seqs) is { } sql ? [sql] : [];
        if (older.Count > 0)
            statements.Add(BinaryValues.OlderShapesSql(older));
        return statements.Count == 0 ? BinaryValues.None : BinaryValues.FromRows((await query(statements)).SelectMany(rows => rows));
    }

    private static List<List<CapturedChange>> Group(List<CapturedChange> changes)
    {
        var transactions = new List<List<CapturedChange>>();
        foreach (var change in changes)
        {
            // A two-phase read puts a prepared transaction's prepare and its end in two groups of the same xid (told by Position).
            if (transactions.Count == 0 || transactions[^1][0].Xid != change.Xid || transactions[^1][0].Position != change.Position)
                transactions.Add([]);
            transactions[^1].Add(change);
        }
        return transactions;
    }

    private async Task SendAsync(byte[] payload)
    {
        WalsenderReplies.CopyData(output, payload);
        await output.FlushAsync(CancellationToken.None);
        _lastSent = DateTime.UtcNow;
    }

    private async Task TryPersistAsync()
    {
        try
        {
            await query([SlotSql.Confirm(slot.Name, _confirmed)]);
            _persisted = _confirmed;
        }
        catch (Exception)
        {
            // The client is gone or the engine is restarting: the position is written at the next stream's first poll
            // instead (a confirmation lost here only means some transactions are sent again, never that one is lost).
        }
    }
}
