using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.PgOutput;
using Npgsql.Replication.PgOutput.Messages;
using NpgsqlTypes;

namespace ZeroPg.Soak;

/// <summary>
/// A pgoutput consumer (Npgsql's) on a slot of the ledger's publication, confirming each transaction's end once applied,
/// reconnecting after every fault. A stream starts after the slot's confirmed position, so what it sends again is only what
/// was not yet confirmed when the connection died: a transaction whose commit LSN is below the position confirmed when the
/// stream started is a duplicate (a finding); one above it that was already applied is a redelivery (allowed, skipped, as
/// any consumer skips by LSN). Each writer's ids must arrive in increasing order, and commit LSNs must rise.
/// At the end every row in the table must have arrived exactly once.
/// </summary>
public sealed class ReplicationConsumer(SoakContext context)
{
    public const string Slot = "soak_slot", Publication = "soak_pub";
    private readonly HashSet<long> _received = [];
    private readonly long[] _lastSequence = new long[Ledger.Writers + 1];
    private readonly Outcomes _outcomes = new();
    private NpgsqlLogSequenceNumber _lastCommit;
    private long _transactions, _redelivered, _duplicated, _outOfOrder, _streams;

    public static string Setup => $"CREATE PUBLICATION {Publication} FOR TABLE soak_ledger";

    public static async Task CreateSlotAsync(string connectionString)
    {
        await using var replication = new LogicalReplicationConnection(connectionString);
        await replication.Open();
        await replication.CreatePgOutputReplicationSlot(Slot, slotSnapshotInitMode: LogicalSlotSnapshotInitMode.NoExport);
    }

    public int ReceivedCount
    {
        get
        {
            lock (_received)
                return _received.Count;
        }
    }

    public async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var from = context.Timeline.Now;
            try
            {
                NpgsqlLogSequenceNumber confirmed;
                await using (var sql = await context.OpenAsync(stop))
                {
                    await using var read = new NpgsqlCommand($"SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '{Slot}'", sql);
                    confirmed = (NpgsqlLogSequenceNumber)(await read.ExecuteScalarAsync(stop))!;
                }
                await using var replication = new LogicalReplicationConnection(context.Server.ConnectionString());
                await replication.Open(stop);
                Interlocked.Increment(ref _streams);
                var inserts = new List<long>();
                await foreach (var message in replication.StartReplication(new PgOutputReplicationSlot(Slot),
                                   new PgOutputReplicationOptions(Publication, PgOutputProtocolVersion.V1), stop))
                {
                    switch (message)
                    {
                        case BeginMessage:
                            inserts.Clear();
                            break;
                        case InsertMessage insert:
                            var column = 0;
                            await foreach (var value in insert.NewRow)
                            {
                                var text = await value.Get<string>(stop); // every column is read: the stream goes on after the row
                                if (column++ == 0)
                                    inserts.Add(long.Parse(text, System.Globalization.CultureInfo.InvariantCulture));
                            }
                            break;
                        case CommitMessage commit:
                            Apply(commit.CommitLsn, confirmed, inserts);
                            replication.SetReplicationStatus(commit.TransactionEndLsn);
                            await replication.SendStatusUpdate(stop);
                            _outcomes.Success();
                            break;
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception error)
            {
                _outcomes.Error(context.Timeline, from, error);
                await Task.Delay(500, CancellationToken.None);
            }
        }
    }

    private void Apply(NpgsqlLogSequenceNumber commitLsn, NpgsqlLogSequenceNumber confirmedAtStart, List<long> ids)
    {
        lock (_received)
        {
            if (commitLsn <= _lastCommit)
            {
                if (commitLsn < confirmedAtStart || !ids.All(_received.Contains))
                {
                    if (commitLsn < confirmedAtStart)
                        Interlocked.Increment(ref _duplicated);
                    else
                        Interlocked.Increment(ref _outOfOrder);
                    context.Progress($"replication: transaction at {commitLsn} after {_lastCommit} (slot confirmed {confirmedAtStart} at the stream's start), ids {string.Join(",", ids.Take(5))}");
                }
                else
                {
                    Interlocked.Increment(ref _redelivered);
                }
                return;
            }
            _lastCommit = commitLsn;
            Interlocked.Increment(ref _transactions);
            foreach (var id in ids)
            {
                if (!_received.Add(id))
                {
                    Interlocked.Increment(ref _duplicated);
                    context.Progress($"replication: id {id} arrived twice (commit {commitLsn})");
                    continue;
                }
                var writer = (int)(id / Ledger.WriterStride);
                var sequence = id % Ledger.WriterStride;
                if (writer is > 0 and <= Ledger.Writers)
                {
                    if (sequence <= _lastSequence[writer])
                    {
                        Interlocked.Increment(ref _outOfOrder);
                        context.Progress($"replication: writer {writer}'s {sequence} after its {_lastSequence[writer]}");
                    }
                    _lastSequence[writer] = Math.Max(_lastSequence[writer], sequence);
                }
            }
        }
    }

    public bool HasAll(IEnumerable<long> ids)
    {
        lock (_received)
            return ids.All(_received.Contains);
    }

    /// <summary>The end's comparison with the table: rows never received, and received ids no longer in the table.</summary>
    public (List<long> Missing, int Extra) Compare(HashSet<long> table)
    {
        lock (_received)
            return ([.. table.Where(id => !_received.Contains(id)).Order()], _received.Count(id => !table.Contains(id)));
    }

    public long Duplicated => Interlocked.Read(ref _duplicated);

    public long OutOfOrder => Interlocked.Read(ref _outOfOrder);

    public Dictionary<string, object> Report()
    {
        var report = _outcomes.Report();
        report["streams"] = Interlocked.Read(ref _streams);
        report["transactions"] = Interlocked.Read(ref _transactions);
        report["rowsReceived"] = ReceivedCount;
        report["redeliveredUnconfirmed"] = Interlocked.Read(ref _redelivered);
        report["duplicated"] = Duplicated;
        report["outOfOrder"] = OutOfOrder;
        return report;
    }
}
