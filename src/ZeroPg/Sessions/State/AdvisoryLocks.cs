using System.Buffers;
using System.IO.Pipelines;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;

namespace ZeroPg.Sessions;

/// <summary>
/// Session-level advisory locks of one client. The engine has one session, so Postgres's own locks would
/// never exclude anyone: ZeroPg rewrites pg_advisory_* calls into per-client functions over a lock table
/// (<see cref="AdvisoryLockSql"/>). A unit using them runs captured: a blocking lock another client holds
/// comes back as ZPLCK, and the client then waits without holding the engine (<see cref="WaitForReleaseAsync"/>)
/// and runs the unit again; inside a transaction block it fails with 55P03 instead. Such a unit goes to the engine alone, not
/// with others of a pipeline (<see cref="UnitRunner"/>), so that only it runs again; captured, it is still the client's
/// statement, which a cancel reaches (<see cref="EngineLink.RunCapturedAsync"/>). Thread: the session.
/// </summary>
internal sealed class AdvisoryLocks(SessionServices services, SessionIdentity identity, SessionCancel cancel, ProtocolState state, PipeWriter output,
    CancellationToken connectionClosed) : ISessionState
{
    /// <summary>The client called an advisory lock function (its locks go when it leaves).</summary>
    public bool Used { get; private set; }

    /// <summary>The client waits for another client to release a lock (diagnostics).</summary>
    public bool Waiting => _waiting;

    private volatile bool _waiting;

    /// <summary>The client may hold locks in the running engine.</summary>
    public bool MayHoldLocks => Used && services.EngineState.AdvisoryInstalledGeneration == services.Engine.Generation;

    /// <summary>The client may hold locks, in the running engine or kept for the next one.</summary>
    public bool MayHoldAnyLocks => Used;

    public string UnlockAllSql => AdvisoryLockSql.UnlockAll(identity.ProcessId);

    /// <summary>Installs ZeroPg's lock functions in the engine session if this engine has not got them; the caller holds the engine.</summary>
    public async Task BeforeUseAsync(EngineLink link)
    {
        Used = true;
        var state = services.EngineState;
        if (state.AdvisoryInstalledGeneration == services.Engine.Generation)
            return;
        // Every client's locks kept outside the engine come back with the table: a restart does not free them.
        var restore = AdvisoryLockSql.Restore(services.AdvisoryLocks.All);
        // In a block of its own, READ WRITE: the engine session may still hold the previous client's read-only default (its
        // preamble comes after this); COMMIT ends the block whether the install worked or not.
        var reply = await link.RunOwnSqlAsync(ReplyMode.Capture,
            restore.Length == 0 ? ["BEGIN READ WRITE", AdvisoryLockSql.Install, "COMMIT"] : ["BEGIN READ WRITE", AdvisoryLockSql.Install, restore, "COMMIT"]);
        if (reply.FirstError() is { } failure)
            throw new PgErrorException(PgError.Error(SqlState.InternalError, "ZeroPg could not set up per-client advisory locks", detail: failure.Message));
        state.AdvisoryInstalledGeneration = services.Engine.Generation;
    }

    /// <summary>
    /// Runs a unit that uses advisory locks, captured: false when it must run again once another client
    /// released a lock this one blocks on (outside a transaction block; inside one the client gets 55P03).
    /// </summary>
    public async Task<bool> RunCapturedAsync(EngineLink link, EngineBatch batch, EngineLease lease, TransactionStatus before)
    {
        // The client's statements, though captured: before, they ran as ZeroPg's own SQL, which no cancel reaches, and a departed
        // client's `select count(*) from generate_series(1, 100000000); select pg_advisory_lock(1)` held every other client 30 s
        // (issue 59's outside fuzzer: 8.6 s while 71 waited).
        await link.RunCapturedAsync(batch, dropCopyInResponse: false);
        var reply = link.Reply.Captured;
        if (reply.Any(IsBusy) && before == TransactionStatus.Idle && state.Status == TransactionStatus.Idle)
        {
            await WaitForReleaseAsync(lease);
            return false;
        }
        foreach (var message in reply)
        {
            if (IsBusy(message))
                ErrorResponse.Write(output, BusyInTransaction);
            else
                output.Write(message);
        }
        await output.FlushAsync();
        Changed();
        return true;
    }

    /// <summary>A captured reply message saying another client holds a lock this one blocks on.</summary>
    private static bool IsBusy(byte[] message)
        => message.Is(BackendCode.ErrorResponse) && ErrorReply.SqlStateOf(message) == AdvisoryLockSql.BusySqlState;

    /// <summary>What a client gets for a blocking lock another holds while it is inside a transaction block.</summary>
    private static PgError BusyInTransaction { get; } = PgError.Error(SqlState.LockNotAvailable,
        "could not obtain advisory lock: another client holds it",
        "ZeroPg waits for a blocking advisory lock only outside transaction blocks; inside one it fails instead of holding the shared engine.");

    /// <summary>Gives the engine to others while waiting for another client to release an advisory lock.</summary>
    private async Task WaitForReleaseAsync(EngineLease lease)
    {
        var changed = services.EngineState.AdvisoryChanged;
        lease.Release();
        _waiting = true;
        try
        {
            // Poll as well: a lock may also be freed by a disconnect on an engine restart.
            await Task.WhenAny(changed, Task.Delay(250, connectionClosed));
        }
        finally
        {
            _waiting = false;
        }
        connectionClosed.ThrowIfCancellationRequested();
        if (cancel.IsRequested)
        {
            cancel.DeliveredToWait();
            throw SessionCancel.Dropped("The statement was waiting for an advisory lock held by another client.");
        }
    }

    /// <summary>The client released all its locks (DISCARD ALL, disconnect).</summary>
    public void ForgetAll() => services.AdvisoryLocks.Forget(identity.ProcessId);

    /// <summary>Locks were taken or released: clients waiting for one try again.</summary>
    public void Changed() => services.EngineState.SignalAdvisoryChange();

    /// <summary>Unlocked in the engine when the client left holding locks there (<see cref="ISessionState.LeftBehind"/>).</summary>
    private bool _unlockAtEnd;

    /// <summary>
    /// A DISCARD ALL answered for this client releases its locks; DISCARD ALL / TEMP in the engine dropped the lock functions;
    /// waiters try again after any use; once the client is outside a transaction block its locks are kept outside the engine too.
    /// </summary>
    ValueTask ISessionState.AfterUnitAsync(UnitOutcome unit, ReadBack readBack)
    {
        var effects = unit.Effects;
        if (effects.DiscardAllAnswered && Used)
        {
            ForgetAll();
            if (MayHoldLocks)
                readBack.Run(UnlockAllSql);
        }
        if (effects.DropsAllTemp)
            unit.Engine.AdvisoryInstalledGeneration = -1; // ZeroPg's lock functions were temp objects too
        if (effects.UsesAdvisoryLocks)
        {
            Changed();
            _unkept |= !unit.Settled; // kept once the client is outside a transaction block (the COMMIT's unit uses none)
        }
        if ((effects.UsesAdvisoryLocks || _unkept) && unit.Settled && MayHoldLocks)
            readBack.Read(AdvisoryLockSql.Snapshot(identity.ProcessId), reply =>
            {
                services.AdvisoryLocks.Keep(identity.ProcessId, OwnSql.TextPairs(reply).FirstOrDefault().Second);
                _unkept = false;
            });
        return ValueTask.CompletedTask;
    }

    /// <summary>The client used advisory locks inside a transaction block still open: the locks it holds now are not kept yet.</summary>
    private bool _unkept;

    /// <summary>
    /// Session locks are kept outside the engine (<see cref="AdvisoryLockKeeper"/>) and put back with the lock table when any client
    /// next uses advisory locks in the new engine. Those taken inside a transaction block still open were not kept yet: a session
    /// lock outlives its transaction's rollback in Postgres, so such a client would lose locks it holds, and cannot go on.
    /// </summary>
    RestartOutcome ISessionState.Restarted()
    {
        if (_unkept)
        {
            _unkept = false;
            return RestartOutcome.CannotRestore("the advisory locks it took inside the transaction block the restart ended");
        }
        return Used ? RestartOutcome.Restored("session advisory locks: kept outside the engine, taken again in the new one before any client's next advisory lock call")
            : RestartOutcome.NothingHeld;
    }

    bool ISessionState.LeftBehind() => _unlockAtEnd = MayHoldLocks;

    void ISessionState.WriteCleanup(SessionEnd end)
    {
        if (_unlockAtEnd)
            end.Sql(UnlockAllSql);
    }

    /// <summary>Its locks are no longer kept (also those kept for an engine that restarted), and waiters try again.</summary>
    void ISessionState.Ended()
    {
        ForgetAll();
        if (MayHoldAnyLocks)
            Changed();
    }
}
