using ZeroPg.Engine;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Frontend;

namespace ZeroPg.Sessions;

/// <summary>
/// The client is gone (Terminate, disconnect, fatal error, at any point: mid-transaction, mid-COPY,
/// mid-batch, queued): undo what it left open in the shared engine session so the next client starts
/// clean (its transaction and unfinished extended sequence roll back, its advisory locks, listens,
/// WITH HOLD cursors and temp relations go), then let the next waiter in. Thread: the session, at its end.
/// </summary>
internal sealed class SessionCleanup(SessionServices services, ProtocolState state, EngineLease lease, EngineLink link, StatementMapping statements,
    CopyIn copy, SessionStates states)
{
    public async Task RunAsync()
    {
        copy.Abort(); // its data goes; the engine never held any of it (inside a block the ROLLBACK below undoes the rest)
        if (!states.LeftBehind() && !lease.IsHeld)
        {
            states.Ended();
            return;
        }
        try
        {
            await lease.AcquireForCleanupAsync();
            var cleanup = new BatchBuffer();
            var expectedErrors = 0;
            if (state.SequenceOpenInEngine)
            {
                expectedErrors = 1;
                // A bare Sync would commit the implicit transaction of the unfinished sequence; Postgres
                // aborts it when the client goes. A failing Parse first makes the Sync roll it back.
                statements.WriteFailingParse(cleanup);
                EmptyFrontendMessage.Write(cleanup, FrontendCode.Sync);
            }
            if (state.Status != TransactionStatus.Idle)
                OwnSql.Append(cleanup, "ROLLBACK");
            // The client's own timeouts must not cancel the cleanup (under a startup -c statement_timeout=1 it could leave its temp
            // tables, locks and listens to the next client), nor its read-only default refuse the DROPs.
            OwnSql.Append(cleanup, "RESET statement_timeout; RESET lock_timeout; RESET transaction_timeout; RESET default_transaction_read_only");
            foreach (var name in (string[])["statement_timeout", "lock_timeout", "transaction_timeout", "default_transaction_read_only"])
                services.EngineState.AppliedSettings.Remove(name);
            EngineStateRestore.AppendEngineRole(cleanup, services.EngineState); // its temp relations may be swapped aside under another name
            states.WriteCleanup(new SessionEnd(cleanup, services.EngineState));
            // Checked, not only sent: a statement of it that fails (an interrupt, the client's 1 ms statement_timeout racing its
            // RESET) would leave the next client this one's settings or temp tables while the engine state says they are gone.
            // Each statement is idempotent (IF EXISTS, RESET, UNLISTEN), so the whole runs again once; then the settings are
            // taken as unknown, which the next client's preamble resets whole.
            for (var attempt = 0; attempt < 2; attempt++)
            {
                var reply = await link.RunOwnSqlAsync(ReplyMode.Capture, cleanup);
                if (reply.Count(m => m.Length > 0 && m[0] == (byte)Protocol.BackendCode.ErrorResponse) <= expectedErrors)
                    return;
                services.Metrics.RecordSessionRestoreFailure();
            }
            services.EngineState.SettingsUnknown = true;
        }
        catch (Exception error) when (error is EngineFailedException || ConnectionErrors.IsDisconnect(error))
        {
            // The engine restarts on its own; there is nothing left to undo in a dead engine.
        }
        finally
        {
            lease.Release();
            states.Ended();
        }
    }
}
