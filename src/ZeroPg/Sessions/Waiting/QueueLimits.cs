using ZeroPg.Protocol;

namespace ZeroPg.Sessions.Waiting;

/// <summary>
/// How long a unit may wait in the queue for the shared engine, from the moment it queued: the lock_timeout and
/// statement_timeout of its first statement that may wait for a lock (<see cref="UnitWaits"/>), and, when that statement
/// must not wait (NOWAIT), Postgres's 55P03 message for it. The wait for the engine stands for the wait for the locks
/// another client's open transaction may hold: statement_timeout counts every moment queued, as Postgres counts a
/// statement's whole time; lock_timeout and NOWAIT fire only while the engine is held by another client's open
/// transaction block (behind a statement that merely runs, as on Postgres, no lock is assumed). Immutable.
/// </summary>
internal sealed record QueueLimits(TimeSpan? LockTimeout, TimeSpan? StatementTimeout, string? NoWait, bool OpensBlock)
{
    /// <summary>How often a wait whose lock limit passed (or a NOWAIT one) looks again at who holds the engine.</summary>
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(20);

    public static PgError StatementTimeoutError { get; } = PgError.Error(SqlState.QueryCanceled, "canceling statement due to statement timeout",
        "It waited for the shared engine, which another client held; the statement did not run.");

    public static PgError LockTimeoutError { get; } = PgError.Error(SqlState.LockNotAvailable, "canceling statement due to lock timeout",
        "Another client's open transaction held the shared engine (and so every lock) for longer than lock_timeout; the statement did not run.");

    /// <summary>The error that ends the wait now, after <paramref name="waited"/>, or null to keep waiting.</summary>
    public PgError? Expired(TimeSpan waited, bool behindTransaction)
    {
        if (StatementTimeout is { } statement && waited >= statement)
            return StatementTimeoutError;
        if (!behindTransaction)
            return null;
        if (NoWait is { } message)
            return PgError.Error(SqlState.LockNotAvailable, message,
                "Another client's open transaction holds the shared engine, so ZeroPg cannot tell the lock is free; NOWAIT does not wait for it.");
        return LockTimeout is { } lockTimeout && waited >= lockTimeout ? LockTimeoutError : null;
    }

    /// <summary>When to look again, after <paramref name="waited"/>.</summary>
    public TimeSpan NextCheck(TimeSpan waited)
    {
        var next = TimeSpan.MaxValue;
        if (StatementTimeout is { } statement)
            next = statement - waited;
        if (NoWait is not null || (LockTimeout is { } passed && waited >= passed))
            next = next < Poll ? next : Poll;
        else if (LockTimeout is { } lockTimeout && lockTimeout - waited < next)
            next = lockTimeout - waited;
        return next < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : next;
    }
}
