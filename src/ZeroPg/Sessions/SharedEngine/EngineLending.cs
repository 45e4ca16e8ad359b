namespace ZeroPg.Sessions;

/// <summary>
/// Reads another session asks to run inside this session's open transaction (a walsender's WAL position for a slot made
/// in a client's transaction, an exported snapshot's), and this session's asks of whoever holds the engine
/// (<see cref="EngineLoans"/>). Thread: <see cref="LendAsync"/> on the asker's; the rest on the session's message loop.
/// </summary>
internal sealed class EngineLending(ClientSession owner, SessionComposition parts)
{
    private readonly EngineLoans _loans = parts.Loans;

    public bool Pending => _loans.Pending;

    /// <summary>
    /// Null at once when this session does not hold the engine; otherwise decided by this session's message loop once its unit is
    /// done (<see cref="CanLend"/> read here could be stale: the client may have this unit's ReadyForQuery, and ask another
    /// connection for something that needs the loan, before this session recorded the transaction the unit opened).
    /// </summary>
    public Task<IReadOnlyList<byte[]>?> LendAsync(IReadOnlyList<string> statements)
    {
        var reply = _loans.Ask(statements);
        if (parts.Lease.IsHeld)
            parts.Input.CancelPendingRead(); // wakes an idle session; a busy one serves it after its unit
        else
            _loans.Decline(); // not held, or released since, perhaps before its release declined what was queued
        return reply;
    }

    /// <summary>Serves the asks queued (the message loop, between units).</summary>
    public Task ServeAsync() => _loans.ServeAsync(CanLend, statements => parts.Link.RunOwnSqlAsync(ReplyMode.Capture, statements));

    /// <summary>The session ends or gives the engine up: what is still asked is declined.</summary>
    public void Decline() => _loans.Decline();

    /// <summary>Runs reads in the transaction of the session that holds the engine, when it can lend it.</summary>
    public async Task<IReadOnlyList<IReadOnlyList<string?[]>>?> BorrowAsync(IReadOnlyList<string> statements)
    {
        if (parts.Services.Scheduler.Owner is not ClientSession holder || holder == owner)
            return null;
        return await holder.LendAsync(statements) is { } reply ? Replication.Walsender.EngineResults.Split(reply) : null;
    }

    /// <summary>Holds the engine between units of its open transaction block (not a COPY, not an unfinished extended sequence).</summary>
    private bool CanLend()
    {
        var state = parts.State;
        return parts.Lease.IsHeld && state.Transaction == TransactionState.InBlock && !state.InCopy && !state.SequenceOpenInEngine;
    }
}
