using System.IO.Pipelines;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;
using ZeroPg.Replication.Capture;
using ZeroPg.Replication.Slots;
using ZeroPg.Replication.Snapshots;

namespace ZeroPg.Replication.Walsender;

/// <summary>
/// The walsender side of a <c>replication=database</c> (or <c>true</c>) connection: runs the replication commands
/// its session hands over (ordinary SQL stays with the session and goes to the engine). Slots live in the engine
/// (zeropg_repl.slots); the capture schema is installed on first use. A command's error is thrown as a
/// <see cref="PgErrorException"/>; the session answers it with ERROR and ReadyForQuery, as for any query.
/// Thread: the session's, except <see cref="TryCancelStream"/> (the canceller's connection).
/// </summary>
internal sealed class WalsenderSession(ReplicationMode mode, PipeReader input, PipeWriter output, EngineQuery query,
    SlotActivity activity, Func<int> processId, string database, CancellationToken connectionClosed)
{
    private readonly HashSet<string> _temporarySlots = new(StringComparer.Ordinal);

    /// <summary>pg_terminate_backend named this walsender: its stream ends with FATAL 57P01 (set on the signaller's thread).</summary>
    private volatile bool _terminated;
    private CancellationTokenSource? _stream;
    /// <summary>The slot of this session's last stream, and a position its client confirmed after the stream ended (<see cref="CopyDataAfterStream"/>).</summary>
    private string? _streamedSlot;
    private Lsn _lateConfirmed = Lsn.Invalid;
    private bool _installed;

    /// <summary>A slot to make once the reply to its CREATE_REPLICATION_SLOT is out (<see cref="AfterReadyAsync"/>).</summary>
    private Func<Task>? _afterReady;

    public ReplicationMode Mode => mode;

    /// <summary>Exported snapshots (Replication/Snapshots); without it, SNAPSHOT 'export' is refused.</summary>
    public SnapshotExports? Exports { get; init; }

    /// <summary>The server's slots (Slots/ClusterSlots): names taken in other databases, and this database's rows for their clients.</summary>
    public ClusterSlots? Cluster { get; init; }

    /// <summary>The client's own value of a session setting (startup options, SET), null when it set none.</summary>
    public Func<string, string?> SessionSetting { get; init; } = _ => null;

    /// <summary>The client sent a command: the snapshot this session exported is gone (Postgres keeps it until then).</summary>
    public void CommandArrived() => Exports?.EndAll();

    /// <summary>After the ReadyForQuery of a command: makes the slot whose reply went out first (<see cref="CreateSlotAsync"/>).</summary>
    public async Task AfterReadyAsync()
    {
        var after = _afterReady;
        _afterReady = null;
        if (after is not null)
            await after();
    }

    /// <summary>
    /// A CopyData after a stream ended (ignored otherwise, as Postgres ignores CopyData outside COPY): a standby status update the
    /// client sent before its CancelRequest, which reached the stream's input only after the cancel had ended it (Npgsql confirms,
    /// then cancels; Postgres reads what is on the socket first). Its flushed position is the slot's, written before the next command
    /// or at the session's end (<see cref="PersistLateConfirmationAsync"/>).
    /// </summary>
    public void CopyDataAfterStream(System.Buffers.ReadOnlySequence<byte> message)
    {
        if (_streamedSlot is null || !Stream.StandbyStatusUpdate.TryParse(Protocol.Frontend.CopyDataMessage.ReadPayload(message), out var status))
            return;
        if (status.Flushed > _lateConfirmed)
            _lateConfirmed = status.Flushed;
    }

    private async Task PersistLateConfirmationAsync()
    {
        var slot = _streamedSlot;
        if (slot is null || _lateConfirmed == Lsn.Invalid)
            return;
        var flushed = _lateConfirmed;
        _lateConfirmed = Lsn.Invalid;
        try
        {
            await query([SlotSql.Confirm(slot, flushed)]);
        }
        catch (Exception error) when (error is PgErrorException or Engine.EngineFailedException)
        {
            // The slot is gone or the engine is restarting: only this late confirmation is lost (its changes are sent again).
        }
    }

    /// <summary>A CancelRequest for this session: true when it stopped a stream (Npgsql stops one that way).</summary>
    public bool TryCancelStream()
    {
        var stream = Volatile.Read(ref _stream);
        if (stream is null)
            return false;
        try { stream.Cancel(); } catch (ObjectDisposedException) { return false; }
        return true;
    }

    /// <summary>pg_terminate_backend named this walsender: true when it stopped a stream, which then ends with FATAL 57P01.</summary>
    public bool TryTerminateStream()
    {
        _terminated = true;
        return TryCancelStream();
    }

    /// <summary>Runs one command and writes its replies up to (not including) ReadyForQuery.</summary>
    public async Task RunAsync(ReplicationCommand command, bool inTransaction)
    {
        await PersistLateConfirmationAsync();
        if (ReplicationRefusals.Check(command, SlotKind) is { } refusal)
            throw new PgErrorException(refusal);
        if (inTransaction && command is not (IdentifySystemCommand or ShowCommand))
            throw ReplicationErrors.Error(ReplicationErrors.ActiveSqlTransaction,
                $"{CommandName(command)} cannot be executed inside a transaction", "Run it outside BEGIN ... COMMIT.");
        switch (command)
        {
            case IdentifySystemCommand:
                await IdentifySystemAsync();
                break;
            case ShowCommand show:
                await ShowAsync(show.Name);
                break;
            case CreateReplicationSlotCommand create:
                await CreateSlotAsync(create);
                break;
            case DropReplicationSlotCommand drop:
                await DropSlotAsync(drop);
                break;
            case StartReplicationCommand start:
                await StartAsync(start);
                break;
            case ReadReplicationSlotCommand read:
                await EnsureInstalledAsync();
                await SlotCommands.ReadAsync(read, output, query);
                break;
            case AlterReplicationSlotCommand alter:
                await EnsureInstalledAsync();
                await SlotCommands.AlterAsync(alter, output, query, processId(), activity.ActiveJson());
                break;
            default:
                throw ReplicationErrors.Error(ReplicationErrors.FeatureNotSupported, $"{CommandName(command)} is not supported by ZeroPg yet",
                    "ZeroPg's walsender runs IDENTIFY_SYSTEM, SHOW, CREATE/ALTER/READ/DROP_REPLICATION_SLOT and START_REPLICATION ... LOGICAL.");
        }
        await output.FlushAsync();
    }

    /// <summary>The session ends: its temporary slots go, as Postgres drops them when their walsender exits.</summary>
    public async Task EndAsync()
    {
        Exports?.EndAll();
        await PersistLateConfirmationAsync();
        foreach (var slot in _temporarySlots)
        {
            activity.Release(slot, processId());
            try { await query([SlotSql.Drop(slot)]); } catch (Exception) { /* the engine is gone: nothing to drop */ }
        }
        if (_temporarySlots.Count > 0)
            await StoreOwnSlotsAsync();
    }

    private ReplicationKind? SlotKind(string slot) => ReplicationKind.Logical; // every ZeroPg slot is logical

    private static string CommandName(ReplicationCommand command) => command switch
    {
        CreateReplicationSlotCommand => "CREATE_REPLICATION_SLOT",
        DropReplicationSlotCommand => "DROP_REPLICATION_SLOT",
        StartReplicationCommand => "START_REPLICATION",
        ReadReplicationSlotCommand => "READ_REPLICATION_SLOT",
        AlterReplicationSlotCommand => "ALTER_REPLICATION_SLOT",
        _ => command.GetType().Name.Replace("Command", "").ToUpperInvariant(),
    };

    private async Task EnsureInstalledAsync()
    {
        if (_installed)
            return;
        await query([CaptureSchema.Install, "SELECT zeropg_repl.sync_publications()"]); // the session's own flag is for this engine only: cheap to repeat
        _installed = true;
    }

    private async Task IdentifySystemAsync()
    {
        var row = (await query(["SELECT system_identifier::text, pg_catalog.pg_current_wal_lsn()::text FROM pg_catalog.pg_control_system()"]))[0][0];
        WalsenderReplies.RowDescription(output, ("systemid", WalsenderReplies.TextOid), ("timeline", WalsenderReplies.Int8Oid),
            ("xlogpos", WalsenderReplies.TextOid), ("dbname", WalsenderReplies.TextOid));
        WalsenderReplies.DataRow(output, row[0], "1", row[1], mode == ReplicationMode.Database ? database : null);
        CommandComplete.Write(output, "IDENTIFY_SYSTEM");
    }

    private async Task ShowAsync(string name)
    {
        var value = (await query([$"SELECT pg_catalog.current_setting({EngineResults.Literal(name)})"]))[0][0][0];
        WalsenderReplies.RowDescription(output, (name, WalsenderReplies.TextOid));
        WalsenderReplies.DataRow(output, value);
        CommandComplete.Write(output, "SHOW");
    }

    private async Task CreateSlotAsync(CreateReplicationSlotCommand create)
    {
        ReplicationErrors.ValidateSlotName(create.SlotName);
        if (create.Plugin != "pgoutput")
            throw ReplicationErrors.Error(ReplicationErrors.UndefinedFile, $"could not access file \"{create.Plugin}\": No such file or directory",
                "ZeroPg's logical slots use the pgoutput plugin.");
        if (create.Failover && create.Temporary)
            throw ReplicationErrors.Error(ReplicationErrors.FeatureNotSupported, "cannot enable failover for a temporary replication slot");
        if (create.Snapshot == SnapshotAction.Export && Exports is null)
            throw ReplicationErrors.Error(ReplicationErrors.FeatureNotSupported, "exported snapshots are not supported on this connection",
                "Create the slot with (SNAPSHOT 'nothing') or NOEXPORT_SNAPSHOT.");
        var export = create.Snapshot == SnapshotAction.Export ? Exports!.Begin(create.SlotName, processId()) : null;
        try
        {
            ReplicationSlot slot;
            if (Exports is not null && await Exports.BorrowPositionAsync(exporting: export is not null) is { } position)
            {
                // Another client's transaction holds the engine, and may be waiting for this reply (zero-cache makes its slot from
                // inside one): the slot is made once that transaction ends, streaming from this position, and its snapshot is
                // taken then (so it holds whatever that transaction commits, which the stream then skips).
                slot = new ReplicationSlot(create.SlotName, create.Plugin, create.Temporary, position, position, TwoPhase: create.TwoPhase, TwoPhaseAt: position);
                _afterReady = async () =>
                {
                    try
                    {
                        await MakeSlotAsync(create, position, export);
                    }
                    catch (Exception) when (export is not null)
                    {
                        Exports.EndAll(); // no slot, no snapshot: its importers get Postgres's error for a snapshot that is gone
                        throw;
                    }
                };
            }
            else
            {
                slot = await MakeSlotAsync(create, null, export);
            }
            if (slot.Temporary)
                _temporarySlots.Add(slot.Name);
            WalsenderReplies.RowDescription(output, ("slot_name", WalsenderReplies.TextOid), ("consistent_point", WalsenderReplies.TextOid),
                ("snapshot_name", WalsenderReplies.TextOid), ("output_plugin", WalsenderReplies.TextOid));
            WalsenderReplies.DataRow(output, slot.Name, slot.ConsistentPoint.ToString(), export?.Name, slot.Plugin);
            CommandComplete.Write(output, "CREATE_REPLICATION_SLOT");
        }
        catch (Exception) when (export is not null)
        {
            Exports!.EndAll();
            throw;
        }
    }

    /// <summary>
    /// Writes the slot's row (in the engine) and, for an exported snapshot, reads the next transaction id in the same engine
    /// call: the snapshot is the committed state right then (<see cref="ExportedSnapshots"/> keeps other writers out meanwhile).
    /// </summary>
    private async Task<ReplicationSlot> MakeSlotAsync(CreateReplicationSlotCommand create, Lsn? consistentPoint, ExportedSnapshot? export)
    {
        await EnsureInstalledAsync();
        IReadOnlyList<string> statements = export is null
            ? [SlotSql.Create(create.SlotName, create.Plugin!, create.Temporary, consistentPoint, twoPhase: create.TwoPhase, failover: create.Failover)]
            : [SlotSql.Create(create.SlotName, create.Plugin!, create.Temporary, consistentPoint, streamFromNow: true, twoPhase: create.TwoPhase, failover: create.Failover), SnapshotExports.NextXidSql];
        using var reservation = Cluster is null ? (SlotReservation?)null : await ReserveAsync(create.SlotName);
        var results = await query(reservation is null ? statements : [reservation.Value.OthersSetting, .. statements]);
        results = reservation is null ? results : results.Skip(1).ToList();
        if (results[0].Count == 0)
            throw ReplicationErrors.Error(ReplicationErrors.DuplicateObject, $"replication slot \"{create.SlotName}\" already exists");
        if (export is not null)
            Exports!.Take(export, results[1][0][0]!);
        await StoreOwnSlotsAsync(); // before the reply: another database's client lists it, and cannot take its name, from now on
        return ReplicationSlot.FromRow(results[0][0]);
    }

    /// <summary>
    /// Holds the name among the server's slots while this walsender makes it, and says which names the other databases have taken
    /// (zeropg.other_slots): read again first, then taken one creation at a time (Slots/ClusterSlots).
    /// </summary>
    private async Task<SlotReservation> ReserveAsync(string slot)
    {
        await Cluster!.RefreshAsync(database, connectionClosed);
        using (await Cluster.CreatingAsync(connectionClosed))
            return new SlotReservation(Cluster.Reserve(database, slot), Cluster.OthersSettingSql(database));
    }

    /// <summary>The statements, after setting which slot names the other databases have (Slots/SlotFunctions' acquire_slot: 55000 for
    /// one of theirs, as Postgres answers a slot made in another database); each statement's rows.</summary>
    private async Task<IReadOnlyList<IReadOnlyList<string?[]>>> QueryKnowingOthersAsync(IReadOnlyList<string> statements)
    {
        if (Cluster is null)
            return await query(statements);
        return [.. (await query([Cluster.OthersSettingSql(database), .. statements])).Skip(1)];
    }

    /// <summary>This database's slots as the other databases' clients see them, stored after a change (best effort: the engine may be gone).</summary>
    private async Task StoreOwnSlotsAsync()
    {
        if (Cluster is null)
            return;
        try
        {
            Cluster.Store(database, (await query([ClusterSlots.OwnRowsSql]))[0]);
        }
        catch (Exception)
        {
            // Kept as last read; read again before the next listing or creation.
        }
    }

    private async Task DropSlotAsync(DropReplicationSlotCommand drop)
    {
        if (activity.Holder(drop.SlotName) is { } pid && pid != processId())
        {
            if (!drop.Wait)
                throw ReplicationErrors.SlotActive(drop.SlotName, pid);
            while (activity.Holder(drop.SlotName) is not null) // WAIT: until its walsender lets go
                await Task.Delay(100, connectionClosed);
        }
        await EnsureInstalledAsync();
        await QueryKnowingOthersAsync([SlotSql.DropChecked(drop.SlotName, processId(), activity.ActiveJson())]); // missing, another database's, or another session's temporary slot: Postgres's errors
        _temporarySlots.Remove(drop.SlotName);
        await StoreOwnSlotsAsync();
        CommandComplete.Write(output, "DROP_REPLICATION_SLOT");
    }

    /// <summary>pg_replication_slots' inactive_since from now on (best effort: the engine may be stopping).</summary>
    private async Task MarkInactiveAsync(string slot)
    {
        try
        {
            await query([SlotSql.Released(slot)]);
        }
        catch (Exception)
        {
            // The client or the engine is gone: the slot only keeps its older inactive_since.
        }
    }

    private async Task StartAsync(StartReplicationCommand start)
    {
        var name = start.SlotName!;
        var options = PgOutputOptions.Parse(start.Options);
        await EnsureInstalledAsync();
        // Missing, held by another session, or invalidated: Postgres's errors (acquire_slot in Slots/SlotFunctions).
        var results = await QueryKnowingOthersAsync([SlotSql.Acquire(name, processId(), activity.ActiveJson()), PublicationSet.ExistingSql(options.Publications),
            DecodingWorkMem.DefaultSql]);
        var missing = options.Publications.Except(results[1].Select(r => r[0]!)).FirstOrDefault();
        if (missing is not null)
            throw ReplicationErrors.Error(ReplicationErrors.UndefinedObject, $"publication \"{missing}\" does not exist");
        var slot = ReplicationSlot.FromRow(results[0][0]);
        if (activity.TryAcquire(name, processId()) is { } holder)
            throw ReplicationErrors.SlotActive(name, holder);
        if (options.TwoPhase && !slot.TwoPhase)
        {
            // As Postgres does: two-phase decoding is enabled on the slot for good, from where this stream starts.
            var at = start.StartLsn > slot.ConfirmedFlush ? start.StartLsn : slot.ConfirmedFlush;
            try
            {
                await query([SlotSql.SetTwoPhase(name, true, at)]);
            }
            catch
            {
                activity.Release(name, processId());
                throw;
            }
            slot = slot with { TwoPhase = true, TwoPhaseAt = at };
        }
        using var stream = CancellationTokenSource.CreateLinkedTokenSource(connectionClosed);
        Volatile.Write(ref _stream, stream);
        _streamedSlot = name;
        _lateConfirmed = Lsn.Invalid;
        var progress = activity.Track(name, processId());
        StreamEnd end;
        try
        {
            var streaming = options.Streaming ? new StreamedTransaction(DecodingWorkMem.Bytes(SessionSetting(DecodingWorkMem.Name) ?? results[2][0][0])) : null;
            end = await new LogicalStream(input, output, query, slot, options, start.StartLsn, progress, streaming).RunAsync(stream.Token);
        }
        catch (Exception error) when (error is FormatException or System.Text.Json.JsonException or KeyNotFoundException or OverflowException)
        {
            // A captured row or shape ZeroPg cannot read: the client is in COPY BOTH, so the stream ends with a FATAL that says why.
            throw new PgErrorException(PgError.Fatal("XX000", $"could not decode a captured change: {error.Message}",
                "Report this with the table's definition; the slot keeps its position, so the change is sent again on reconnect."));
        }
        finally
        {
            Volatile.Write(ref _stream, null);
            activity.Release(name, processId());
            await MarkInactiveAsync(name);
        }
        if (_terminated)
            end = StreamEnd.Terminated;
        switch (end)
        {
            case StreamEnd.CopyDone:
                WalsenderReplies.CopyDone(output);
                CommandComplete.Write(output, "COPY 0");
                CommandComplete.Write(output, "START_REPLICATION");
                break;
            case StreamEnd.ServerStopping:
                throw new PgErrorException(PgError.Fatal("57P01", "terminating connection due to administrator command",
                    "The ZeroPg server is stopping; the slot keeps its confirmed position."));
            case StreamEnd.Terminated:
                throw new PgErrorException(PgError.Fatal("57P01", "terminating connection due to administrator command",
                    "pg_terminate_backend ended this walsender; the slot keeps its confirmed position."));
            case StreamEnd.Invalidated:
                // Postgres terminates the walsender of a slot it invalidates; the next START_REPLICATION gets "can no longer access".
                throw new PgErrorException(PgError.Fatal("57P01", "terminating connection due to administrator command",
                    $"Replication slot \"{name}\" was invalidated: it fell more than max_slot_wal_keep_size behind."));
            case StreamEnd.Cancelled when !connectionClosed.IsCancellationRequested:
                throw ReplicationErrors.Error(ReplicationErrors.QueryCanceled, "canceling statement due to user request");
            default:
                throw new Microsoft.AspNetCore.Connections.ConnectionResetException("the replication client left");
        }
    }
}
