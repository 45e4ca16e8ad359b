using ZeroPg.Replication.Capture;
using ZeroPg.Replication.PgOutput;

namespace ZeroPg.Replication.Walsender;

/// <summary>One XLogData payload and the LSN its header carries.</summary>
internal readonly record struct StreamFrame(Lsn Lsn, byte[] Payload);

/// <summary>A prepared transaction's prepare, sent as Begin Prepare ... Prepare: its gid, the LSN it was prepared at (its end one
/// past it, below anything later) and the time.</summary>
internal sealed record PreparedAs(string Gid, Lsn PrepareLsn, long Time)
{
    public Lsn EndLsn => new(PrepareLsn.Value + 1);
}

/// <summary>
/// Turns one committed transaction's captured changes into pgoutput messages, as pgoutput.c does: Begin lazily
/// before the first published change (a transaction with none is not sent), Relation (and Type) before a relation's
/// first change in the stream and again when its shape changed, the changes with the old tuple their replica
/// identity asks for, Commit. LSNs: each change its own (the WAL insert position when it was captured); the commit
/// LSN is the last change's + 1 and the end LSN + 2, both below the next transaction's first change.
/// Owned by one stream (it remembers which Relation messages that stream has sent).
/// </summary>
internal sealed class TransactionEncoder(bool messages)
{
    private readonly Dictionary<uint, string> _sentRelations = new();

    public static Lsn CommitLsn(IReadOnlyList<CapturedChange> tx) => new(tx[^1].Lsn.Value + 1);

    public static Lsn EndLsn(IReadOnlyList<CapturedChange> tx) => new(tx[^1].Lsn.Value + 2);

    /// <param name="streamed">The transaction goes out streamed (<see cref="StreamedTransaction"/>): pgoutput describes each relation
    /// again within a streamed transaction, and counts it as sent once that commits.</param>
    /// <param name="prepared">The transaction goes out as a prepare (two-phase): Begin Prepare at once, as pgoutput sends it even for
    /// a transaction without published changes, and Prepare instead of Commit.</param>
    public List<StreamFrame> Encode(IReadOnlyList<CapturedChange> tx, PublicationSet published, RelationShapes relations, BinaryValues binary,
        RowFilterMatches rows, bool streamed = false, PreparedAs? prepared = null)
    {
        var sentRelations = streamed ? new Dictionary<uint, string>() : _sentRelations;
        var frames = new List<StreamFrame>();
        var loose = new List<StreamFrame>(); // non-transactional messages: outside Begin/Commit, ahead of their transaction
        var commitLsn = CommitLsn(tx);
        var commitTime = tx[^1].Time;
        var xid = (uint)tx[0].Xid;
        var began = false;
        void Begin()
        {
            if (began)
                return;
            began = true;
            frames.Add(prepared is null
                ? new(tx[0].Lsn, new BeginMessage(commitLsn, commitTime, xid).Encode())
                : new(tx[0].Lsn, new BeginPrepareMessage(prepared.PrepareLsn, prepared.EndLsn, prepared.Time, xid, prepared.Gid).Encode()));
        }
        if (prepared is not null)
            Begin();
        // A partition published as its root: the root's Relation, then the partition's own, both again whenever the partition's
        // were not sent yet (pgoutput's maybe_send_schema keeps that per partition).
        void Describe(PublishedRelation relation, PublishedRelation? partition = null)
        {
            var key = partition?.Oid ?? relation.Oid;
            var fingerprint = partition is null ? relation.Fingerprint : relation.Fingerprint + '\u0002' + partition.Fingerprint;
            if (sentRelations.TryGetValue(key, out var sent) && sent == fingerprint)
                return;
            foreach (var described in partition is null ? [relation] : new[] { relation, partition })
            {
                foreach (var type in described.Types)
                    frames.Add(new(Lsn.Invalid, type.Encode()));
                frames.Add(new(Lsn.Invalid, described.Message.Encode()));
            }
            sentRelations[key] = fingerprint;
        }

        for (var i = 0; i < tx.Count; i++)
        {
            var change = tx[i];
            if (change.Op is 'P' or 'K')
                continue; // markers (Capture/PreparedCommits, TwoPhasePrepares)
            if (change.Op == 'm')
            {
                if (messages)
                    loose.Add(new(change.Lsn, new LogicalMessage(false, change.Lsn, change.Prefix ?? "", change.Content ?? []).Encode()));
                continue;
            }
            if (change.Op == 'M')
            {
                if (!messages)
                    continue;
                Begin();
                frames.Add(new(change.Lsn, new LogicalMessage(true, change.Lsn, change.Prefix ?? "", change.Content ?? []).Encode()));
                continue;
            }
            if (change.Op == 'T')
            {
                // One TRUNCATE of several tables records one row per table, consecutively: one 'T' message, as pgoutput sends.
                var truncated = new List<PublishedRelation>();
                var j = i;
                for (; j < tx.Count && tx[j].Op == 'T'; j++)
                {
                    // A TRUNCATE gives the table a new relfilenode: pgoutput's relation cache forgets it, so its Relation goes out
                    // again before the 'T', and again at its next change after this transaction (see ForgetTruncated).
                    if (tx[j].RelationOid is { } truncatedOid)
                        sentRelations.Remove(truncatedOid);
                    // A partition published as its root is not sent (the root's own row is, when the root was truncated).
                    if (published.Publishes(tx[j].RelationOid, 'T') && published.PublishedAs(tx[j].RelationOid!.Value) == tx[j].RelationOid
                        && relations.At(tx[j].RelationOid!.Value, tx[j].Lsn) is { } truncatedShape
                        && published.Restrict(truncatedShape) is var shape
                        && truncated.All(t => t.Oid != shape.Oid))
                        truncated.Add(shape);
                }
                if (truncated.Count > 0)
                {
                    Begin();
                    foreach (var shape in truncated)
                        Describe(shape);
                    frames.Add(new(change.Lsn, new TruncateMessage(Options(change), truncated.Select(t => t.Oid).ToList()).Encode()));
                }
                i = j - 1;
                continue;
            }
            if (change.RelationOid is not { } oid || published.PublishedAs(oid) is var target && !published.Publishes(target, change.Op)
                || relations.At(target, change.Lsn) is not { } captured)
                continue; // not published, or dropped since
            var relation = published.Restrict(captured);
            var partition = target == oid ? null : relations.At(oid, change.Lsn) is { } leaf ? published.Restrict(leaf, target) : null;
            if (target != oid && partition is null)
                continue;
            var op = rows.Apply(change);
            if (op == '\0')
                continue; // its row filter leaves it out
            var message = ChangeMessage(change, op, relation, binary, partition is null ? null : captured.PositionsIn(partition));
            if (message is null)
                continue;
            Begin();
            Describe(relation, partition);
            frames.Add(new(change.Lsn, message.Encode()));
        }
        if (prepared is not null)
            frames.Add(new(prepared.EndLsn, new PrepareMessage(prepared.PrepareLsn, prepared.EndLsn, prepared.Time, xid, prepared.Gid).Encode()));
        else if (began)
            frames.Add(new(EndLsn(tx), new CommitMessage(commitLsn, EndLsn(tx), commitTime).Encode()));
        if (streamed)
        {
            foreach (var (oid, fingerprint) in sentRelations)
                _sentRelations[oid] = fingerprint;
        }
        ForgetTruncated(tx);
        if (loose.Count > 0)
            frames.InsertRange(0, loose);
        return frames;
    }

    /// <summary>
    /// One group of a two-phase stream (CapturedChange.FetchTwoPhaseSql): an ordinary transaction; a prepare (the copies of a prepared
    /// transaction's rows, then its 'P' marker); or a prepared transaction's end (its commit marker last, with the transaction's
    /// status): Commit Prepared when committed, preceded by the whole prepare when that did not go out at PREPARE (no marker, or
    /// one from before the slot's <paramref name="twoPhaseAt"/>: Postgres too replays such a transaction at its COMMIT PREPARED);
    /// Rollback Prepared when rolled back after its prepare went out; nothing while it is still prepared (another gid was
    /// committed) or when nothing of it was ever seen.
    /// </summary>
    public List<StreamFrame> EncodeTwoPhase(IReadOnlyList<CapturedChange> tx, Lsn twoPhaseAt, PublicationSet published, RelationShapes relations,
        BinaryValues binary, RowFilterMatches rows, bool streamed)
    {
        var last = tx[^1];
        var xid = (uint)last.Xid;
        if (last.Op == 'P')
            return Encode(tx, published, relations, binary, rows, prepared: new PreparedAs(last.Prefix ?? "", last.Lsn, last.Time));
        if (last.Op != 'K')
            return Encode(tx, published, relations, binary, rows, streamed);
        var marker = tx.LastOrDefault(c => c.Op == 'P');
        var decodedAtPrepare = marker is not null && marker.Lsn >= twoPhaseAt;
        var gid = last.Prefix ?? "";
        switch (last.Status)
        {
            case "committed":
            {
                var frames = new List<StreamFrame>();
                if (!decodedAtPrepare)
                {
                    var own = tx.Where(c => c.Op is not ('P' or 'K')).ToList();
                    if (own.Count == 0 && marker is null)
                        return frames;
                    var prepareLsn = marker?.Lsn ?? CommitLsn(own);
                    frames.AddRange(Encode(own.Count > 0 ? own : [marker!], published, relations, binary, rows,
                        prepared: new PreparedAs(gid, prepareLsn, marker?.Time ?? own[^1].Time)));
                }
                frames.Add(new(EndLsn(tx), new CommitPreparedMessage(CommitLsn(tx), EndLsn(tx), last.Time, xid, gid).Encode()));
                return frames;
            }
            case "aborted" when decodedAtPrepare:
                return [new(EndLsn(tx), new RollbackPreparedMessage(new PreparedAs(gid, marker!.Lsn, marker.Time).EndLsn, EndLsn(tx), marker.Time, last.Time, xid, gid).Encode())];
            default:
                return [];
        }
    }

    /// <summary>The message for <paramref name="change"/> sent as <paramref name="op"/>: its own operation, or the INSERT or
    /// DELETE a row filter turns an UPDATE into (its new row, or its old row as its replica identity sends it).</summary>
    /// <param name="positions">Where each of the relation's captured columns sits in the change's record when the change was
    /// captured from a partition published as this relation, its root; null otherwise.</param>
    private static IPgOutputMessage? ChangeMessage(CapturedChange change, char op, PublishedRelation relation, BinaryValues binary, int[]? positions)
    {
        var identity = relation.Identity;
        List<TupleValue> New() => Values(change.NewRow, relation, binary.Of(change.Seq, old: false), positions);
        List<TupleValue> Old() => Values(change.OldRow, relation, binary.Of(change.Seq, old: true), positions);
        switch (op)
        {
            case 'I':
                return new InsertMessage(relation.Oid, New());
            case 'U':
            {
                var next = New();
                var old = Old();
                if (identity == ReplicaIdentity.Full)
                    return new UpdateMessage(relation.Oid, OldTupleKind.Old, old, next);
                var keyChanged = identity != ReplicaIdentity.Nothing && relation.Columns.Select((c, k) => (c, k))
                    .Any(x => x.c.IsKey && !SameValue(old[x.k], next[x.k]));
                return keyChanged
                    ? new UpdateMessage(relation.Oid, OldTupleKind.Key, KeyOnly(old, relation), next)
                    : new UpdateMessage(relation.Oid, OldTupleKind.None, null, next);
            }
            case 'D':
            {
                var old = Old();
                return identity switch
                {
                    ReplicaIdentity.Full => new DeleteMessage(relation.Oid, OldTupleKind.Old, old),
                    ReplicaIdentity.Nothing => null, // Postgres refuses such a DELETE on a published table; nothing identifies the row
                    _ => new DeleteMessage(relation.Oid, OldTupleKind.Key, KeyOnly(old, relation)),
                };
            }
            default:
                return null;
        }
    }

    /// <summary>The invalidations of a transaction that truncated a table run again at its commit: pgoutput sends that table's
    /// Relation again before its next change (as captured from PG 15).</summary>
    private void ForgetTruncated(IReadOnlyList<CapturedChange> tx)
    {
        foreach (var change in tx)
        {
            if (change is { Op: 'T', RelationOid: { } oid })
                _sentRelations.Remove(oid);
        }
    }

    /// <summary>CASCADE / RESTART IDENTITY: the capture records them with the TRUNCATE's first row (Capture/CaptureSchema).</summary>
    private static TruncateOptions Options(CapturedChange change)
        => change.Content is { Length: > 0 } options ? (TruncateOptions)options[0] : TruncateOptions.None;

    private static bool SameValue(TupleValue a, TupleValue b) => a.Kind == b.Kind && a.Bytes.Span.SequenceEqual(b.Bytes.Span);

    private static List<TupleValue> KeyOnly(List<TupleValue> values, PublishedRelation relation)
        => relation.Columns.Select((c, k) => c.IsKey ? values[k] : TupleValue.Null).ToList();

    /// <summary>A captured record's columns as 't' values (NULL as 'n'), columns not published left out. A record captured
    /// under an older shape of the table (columns added or dropped since) is padded or cut to the current one.</summary>
    private static List<TupleValue> Values(string? record, PublishedRelation relation, IReadOnlyList<byte[]?>? binary, int[]? positions)
    {
        if (binary is not null)
        {
            binary = Reorder(binary, positions);
            var sent = new List<TupleValue>(relation.Columns.Count);
            for (var k = 0; k < relation.Included.Count; k++)
            {
                if (relation.Included[k])
                    sent.Add(k < binary.Count && binary[k] is { } bytes ? TupleValue.Binary(bytes) : TupleValue.Null);
            }
            return sent;
        }
        var columns = Reorder(record is null ? new List<string?>() : RecordText.Split(record), positions);
        var values = new List<TupleValue>(relation.Columns.Count);
        for (var k = 0; k < relation.Included.Count; k++)
        {
            if (!relation.Included[k])
                continue;
            values.Add(k < columns.Count && columns[k] is { } text ? TupleValue.Text(text) : TupleValue.Null);
        }
        return values;
    }

    private static IReadOnlyList<T?> Reorder<T>(IReadOnlyList<T?> captured, int[]? positions) where T : class
        => positions is null ? captured : [.. positions.Select(p => p >= 0 && p < captured.Count ? captured[p] : null)];
}
