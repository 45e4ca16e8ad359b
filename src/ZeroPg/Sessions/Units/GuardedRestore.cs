using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;

namespace ZeroPg.Sessions;

/// <summary>
/// The client's state restored guarded (<see cref="EngineStateRestore"/>'s guarded preamble; Sessions/README.md, "When a restore
/// fails"): which units carry it, the restore in a checked call of its own for a unit that cannot, and what follows a restore
/// the engine refused: the block rolled back, every setting reset, the engine state and the client's transaction put back as
/// before the batch, and the unit built again; the client's own cancel answered 57014; a second failure in a row ends the
/// session (FATAL 57P01). Thread: the session's message loop, holding the engine.
/// </summary>
internal sealed partial class GuardedRestore(SessionComposition parts)
{
    private readonly ProtocolState _state = parts.State;
    private readonly SessionServices _services = parts.Services;
    private readonly EngineBatch _alone = new();
    private int _failures; // of the unit being run, in a row

    /// <summary>
    /// The first <paramref name="count"/> messages may carry the guarded preamble: the engine session is outside a block of the
    /// client's, no statement of them could end ZeroPg's block (and let the statements after it run unrestored), and they do not
    /// take the advisory locks' captured path.
    /// </summary>
    public bool CanGuard(int count, bool usesAdvisoryLocks) => _state.EngineUntouched && !usesAdvisoryLocks && !MayEndTransaction(count);

    /// <summary>What the batch's guarded preamble changes, as it is before the batch is sent; null without one (no copy per unit then).</summary>
    public EngineStateRestore.Mark? MarkIfGuarded(EngineBatch batch) => batch.Plan.GuardedPreamble ? parts.Restore.Take() : null;

    /// <summary>
    /// After the batch's call: true when its guarded restore failed in its block, which is now rolled back (nothing of the unit
    /// ran: run it again). Throws the client's 57014, or the FATAL of a second failure in a row.
    /// </summary>
    public async Task<bool> FailedAsync(EngineStateRestore.Mark? mark)
    {
        if (parts.Link.Reply.PreambleFailure is { } failure && mark is not null)
        {
            await RecoverAsync(mark, failure, ++_failures);
            return true;
        }
        _failures = 0;
        if (parts.Link.Reply.PreambleFailedOutsideBlock is { } outside)
            ForgetEngineState(outside);
        return false;
    }

    /// <summary>
    /// The client's state restored in a call of its own, before a unit that cannot carry the guarded preamble: checked, and on
    /// failure rolled back and tried once more, then the session ends instead of running in another client's state.
    /// </summary>
    public async Task RestoreAloneAsync()
    {
        for (var failures = 1; ; failures++)
        {
            _alone.Clear();
            parts.Restore.WritePreamble(_alone, guarded: true);
            if (!_alone.Plan.GuardedPreamble)
            {
                _alone.Clear(); // nothing to restore but a deferred BEGIN: it goes with the unit
                return;
            }
            var mark = parts.Restore.Take(); // as before the batch: its state changes when it is sent
            await parts.Link.RunAsync(_alone, ReplyMode.Discard);
            if (parts.Link.Reply.PreambleFailure is not { } failure)
            {
                if (parts.Link.Reply.PreambleFailedOutsideBlock is { } outside)
                    ForgetEngineState(outside);
                return;
            }
            await RecoverAsync(mark, failure, failures);
        }
    }

    /// <summary>A statement of the first <paramref name="count"/> messages may end a transaction block (<see cref="Sql.SqlAnalysis.MayEndTransaction"/>).</summary>
    private bool MayEndTransaction(int count)
    {
        var messages = parts.Batch.Messages;
        for (var i = 0; i < count; i++)
        {
            var message = messages[i];
            if (message.Sql is { } sql)
            {
                if (sql.MayEndTransaction)
                    return true;
            }
            else if (message.Code == FrontendCode.Bind && parts.Statements.StatementSql(message.StatementName!) is { MayEndTransaction: true })
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// The guarded restore failed in the engine and left its block aborted (<see cref="ReplyRouter.PreambleFailure"/>): nothing of
    /// the client's ran. The block is rolled back and every setting reset (a statement_timeout another client left is the likely
    /// cause), and the engine state and the client's transaction are put back as before the batch.
    /// </summary>
    private async Task RecoverAsync(EngineStateRestore.Mark mark, ErrorReply failure, int failures)
    {
        var end = new BatchBuffer();
        Protocol.Frontend.EmptyFrontendMessage.Write(end, FrontendCode.Sync); // ends a sequence of the client's the engine skips
        OwnSql.Append(end, "ROLLBACK", "RESET ALL");
        for (var i = 0; i < 3; i++)
        {
            await parts.Link.RunOwnSqlAsync(ReplyMode.Discard, end);
            if (parts.Link.Reply.LastStatus == TransactionStatus.Idle)
                break;
        }
        parts.Link.Reply.ResetSequence();
        parts.Restore.Undo(mark);
        _services.Metrics.RecordSessionRestoreFailure();
        Log.RestoreFailed(_services.Logger, _services.DatabaseName, parts.Identity.ProcessId, failure.SqlState, failure.Message, failures);
        // The engine's own text for the cancel it raised for this client's batch (its lc_messages is C).
        if (failure.SqlState == SqlState.QueryCanceled && failure.Message?.Contains("user request", StringComparison.Ordinal) == true)
        {
            // This client's own cancel ended the restore: its statement is cancelled, as it asked. Nothing of the unit ran, so the
            // statement names its Parses added go too (the client's view: they failed).
            _failures = 0;
            parts.Statements.UndoUnit();
            if (_state.Transaction != TransactionState.Idle)
                _state.FailedInQueue();
            throw new PgErrorException(PgError.Error(SqlState.QueryCanceled, "canceling statement due to user request"));
        }
        if (failures < 2)
            return;
        _failures = 0;
        // Restored whole, or told (Sessions/README.md): a session that cannot be put back ends, rather than run its statements in
        // another client's state or fail each of them for ever (a setting naming an object another client dropped).
        throw new PgErrorException(PgError.Fatal(SqlState.AdminShutdown, "terminating connection because its session state could not be restored in the shared engine",
            "Connect again: the new session starts from the defaults. Nothing of the statement ran.",
            $"The engine refused the restore twice: {failure.Message} ({failure.SqlState})."));
    }

    /// <summary>The guarded restore failed outside its block (its lone BEGIN had taken an interrupt): the engine session's settings are not known any more.</summary>
    private void ForgetEngineState(ErrorReply failure)
    {
        _services.EngineState.SettingsUnknown = true;
        _services.Metrics.RecordSessionRestoreFailure();
        Log.RestoreFailedOutsideBlock(_services.Logger, _services.DatabaseName, parts.Identity.ProcessId, failure.SqlState, failure.Message);
    }

    private static partial class Log
    {
        [Microsoft.Extensions.Logging.LoggerMessage(Level = Microsoft.Extensions.Logging.LogLevel.Warning,
            Message = "database {Database}, session {ProcessId}: the statements restoring its session state failed in the engine ({SqlState}: {Error}); rolled back and reset, failure {Failures} in a row")]
        public static partial void RestoreFailed(Microsoft.Extensions.Logging.ILogger logger, string database, int processId, string? sqlState, string? error, int failures);

        [Microsoft.Extensions.Logging.LoggerMessage(Level = Microsoft.Extensions.Logging.LogLevel.Warning,
            Message = "database {Database}, session {ProcessId}: the statements restoring its session state failed outside their block ({SqlState}: {Error}); its statements ran on the engine session as it was, whose settings are reset at the next batch")]
        public static partial void RestoreFailedOutsideBlock(Microsoft.Extensions.Logging.ILogger logger, string database, int processId, string? sqlState, string? error);
    }
}
