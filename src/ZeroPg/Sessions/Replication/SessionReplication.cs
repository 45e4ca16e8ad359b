using Microsoft.Extensions.Logging;
using ZeroPg.Engine;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Frontend;
using ZeroPg.Replication.Walsender;

namespace ZeroPg.Sessions;

/// <summary>
/// A client session's part in logical replication outside the walsender: ZeroPg's zeropg_repl schema installed before a unit that
/// needs it, the server's slots around a unit that uses them (Replication/Slots/ClusterSlots), prepared transactions' markers and
/// two-phase copies (<see cref="PreparedTransactionCapture"/>), non-transactional logical messages a rollback undid written again
/// (<see cref="HeldMessages"/>), and the temporary slots the client made, dropped when it leaves.
/// Thread: the session's.
/// </summary>
internal sealed partial class SessionReplication(EngineLink link, SessionServices services, Func<int> processId, HeldMessages heldMessages)
{
    private readonly PreparedTransactionCapture _prepared = new(link, services, processId);

    /// <summary>The client called a slot function: the temporary slots it made go when it leaves.</summary>
    private bool _usedSlots;

    /// <summary>Before the engine is held for a unit of the first <paramref name="count"/> accepted messages: the other databases'
    /// slots read when the unit lists them or makes one (reading asks their engines).</summary>
    public async ValueTask<Unit> BeginUnitAsync(ClientBatch batch, int count, StatementMapping statements, CancellationToken cancellation)
    {
        var slots = UnitSlotUse.Of(batch, count, statements);
        if (slots.ReadsOthers)
            await services.Databases.Slots.RefreshAsync(services.DatabaseName, cancellation);
        var needsSchema = false;
        var emitsMessages = false;
        for (var i = 0; i < count; i++)
        {
            if (batch.Messages[i] is not { Code: FrontendCode.Query or FrontendCode.Parse, Sql: { } sql })
                continue;
            emitsMessages |= sql.Effects.EmitsLogicalMessages;
            needsSchema |= sql.Effects.EmitsLogicalMessages || sql.UsesReplicationSlots;
            _usedSlots |= sql.UsesReplicationSlots;
        }
        var endsPrepared = false;
        bool? startsWithPrepare = null;
        foreach (var sql in UnitSql.Of(batch, count, statements))
        {
            endsPrepared |= sql.CommitsPrepared || sql.RollsBackPrepared;
            startsWithPrepare ??= sql.StartsWithPrepareTransaction;
        }
        return new Unit(this, slots, needsSchema, emitsMessages, endsPrepared, startsWithPrepare ?? false, cancellation);
    }

    /// <summary>Non-transactional messages emitted in a transaction that has not ended yet, or whose end was not looked at.</summary>
    public bool HoldsMessages => heldMessages.Pending;

    /// <summary>
    /// The client's transaction has ended, the engine held: the non-transactional messages it emitted are written again where its
    /// rollback undid them (<see cref="HeldMessages"/>). A failure is logged, not the client's: its statements' outcome stands.
    /// </summary>
    public async Task RescueMessagesAsync(bool inPlace)
    {
        try
        {
            EngineResults.Split(await link.RunOwnSqlAsync(ReplyMode.Capture, heldMessages.TakeRescueSql(inPlace)));
        }
        catch (Exception error) when (error is PgErrorException or EngineFailedException)
        {
            Log.MessagesNotRescued(services.Logger, processId(), error.Message);
        }
    }

    /// <summary>The session ends (its transaction rolled back): the non-transactional messages it undid are written again, and the
    /// temporary slots pg_create_logical_replication_slot made for it go, as Postgres drops them.</summary>
    public async Task EndAsync(EngineLease lease)
    {
        if (!_usedSlots && !heldMessages.Pending)
            return;
        try
        {
            await lease.AcquireForCleanupAsync();
            if (heldMessages.Pending)
                await RescueMessagesAsync(inPlace: true); // rolled back, none of its transaction was read; rows committed since by others make it a new row
            if (_usedSlots)
            {
                var batch = EngineStateRestore.AppendEngineRole(new BatchBuffer(), services.EngineState);
                await link.RunOwnSqlAsync(ReplyMode.Discard, OwnSql.Append(batch, Replication.Slots.SlotSql.DropTemporary(processId())));
            }
        }
        catch (Exception error) when (error is EngineFailedException || ConnectionErrors.IsDisconnect(error))
        {
            // The engine is gone or restarting: nothing left to drop.
        }
        finally
        {
            lease.Release();
        }
    }

    /// <summary>pg_logical_emit_message calls are rewritten to zeropg_repl's: its schema is installed first, as the engine's
    /// role (it is known to stay only when installed outside a transaction block, which could still roll it back).</summary>
    private async Task EnsureCaptureSchemaAsync(TransactionStatus before)
    {
        var state = services.EngineState;
        if (state.CaptureInstalledGeneration == services.Engine.Generation)
            return;
        if (before != TransactionStatus.Idle
            && EngineResults.Split(await link.RunOwnSqlAsync(ReplyMode.Capture, OwnSql.Batch([Replication.Capture.TwoPhasePrepares.InstalledSql]))) is [[["t"]]])
            return; // installed (by a walsender): installing again inside the client's transaction would hold its catalog rows' locks, until its COMMIT PREPARED if it is prepared
        var batch = EngineStateRestore.AppendEngineRole(new BatchBuffer(), state);
        EngineResults.Split(await link.RunOwnSqlAsync(ReplyMode.Capture, OwnSql.Append(batch, Replication.Capture.CaptureSchema.Install)));
        if (before == TransactionStatus.Idle)
            state.CaptureInstalledGeneration = services.Engine.Generation;
    }

    /// <summary>Before a unit that uses slots, the engine held: which names the other databases have taken (zeropg.other_slots), and
    /// when it makes one, the server's hold on creating slots (taken now, once: no creator waits for this engine).</summary>
    private async Task<IDisposable?> SetOtherSlotsAsync(bool creates, IDisposable? creating, CancellationToken cancellation)
    {
        if (creates)
            creating ??= await services.Databases.Slots.CreatingAsync(cancellation);
        await link.RunOwnSqlAsync(ReplyMode.Discard, OwnSql.Batch([services.Databases.Slots.OthersSettingSql(services.DatabaseName)]));
        return creating;
    }

    /// <summary>After a slot function: this database's slots as the other databases' clients see them (Replication/Slots/ClusterSlots).</summary>
    private async Task StoreOwnSlotsAsync(TransactionStatus status)
    {
        if (status == TransactionStatus.Failed)
            return; // what the unit did is undone at the rollback; the rows are read again at the next use
        try
        {
            var rows = EngineResults.Split(await link.RunOwnSqlAsync(ReplyMode.Capture, OwnSql.Batch([Replication.Slots.ClusterSlots.OwnRowsSql])));
            if (rows is [.., var own])
                services.Databases.Slots.Store(services.DatabaseName, own);
        }
        catch (PgErrorException)
        {
            // Kept as last read.
        }
    }

    /// <summary>One unit's replication work, around its engine call; disposed when the unit is done.</summary>
    public sealed class Unit(SessionReplication owner, UnitSlotUse slots, bool needsSchema, bool emitsMessages, bool endsPrepared, bool startsWithPrepare,
        CancellationToken cancellation) : IDisposable
    {
        /// <summary>Held while the unit makes a slot: one creation at a time on the server, so names stay unique across databases.</summary>
        private IDisposable? _creating;

        private PreparedTransactionCapture.Rows? _prepared;

        /// <summary>The engine stays held after the unit's batch is submitted: what follows it must run before anyone else's (a
        /// non-transactional message a rollback undid goes back in place only if no one else's unit ran since).</summary>
        public bool HoldsEngineAfterRun => slots.Calls || _prepared is not null || emitsMessages;

        /// <summary>The engine held, right before the unit's batch is built (again on each attempt). A prepared transaction's rows are
        /// read only while the client's transaction is open, and not in a unit that takes advisory locks (those run captured).</summary>
        public async Task BeforeRunAsync(TransactionStatus before, bool usesAdvisoryLocks)
        {
            if (needsSchema)
                await owner.EnsureCaptureSchemaAsync(before);
            if (slots.Uses)
                _creating = await owner.SetOtherSlotsAsync(slots.Creates, _creating, cancellation);
            if (before == TransactionStatus.Idle && endsPrepared)
                await owner._prepared.MarkEndsAsync();
            _prepared = before == TransactionStatus.InTransaction && !usesAdvisoryLocks && startsWithPrepare
                ? await owner._prepared.ReadAsync()
                : null;
        }

        /// <summary>The unit ran, the engine still held (<see cref="HoldsEngineAfterRun"/>).</summary>
        public async Task AfterRunAsync(TransactionStatus status)
        {
            if (slots.Calls)
                await owner.StoreOwnSlotsAsync(status);
            if (_prepared is not null && status == TransactionStatus.Idle)
                await owner._prepared.RecordAsync(_prepared);
        }

        public void Dispose() => _creating?.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "session {ProcessId}: non-transactional logical messages its rollback undid could not be written again ({Message}); replication consumers do not get them")]
        public static partial void MessagesNotRescued(ILogger logger, int processId, string message);
    }
}
