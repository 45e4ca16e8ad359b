using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;

namespace ZeroPg.Sessions;

/// <summary>
/// Hints for the engine's errors about prepared transactions whose cause Postgres's own text does not tell in ZeroPg.
/// A lock that is not available (55P03: NOWAIT, lock_timeout, or the engine host ending a lock wait at deadlock_timeout):
/// the engine's one backend shares its locks with nobody but prepared transactions, so one of them holds it.
/// </summary>
internal static class PreparedTransactionHints
{
    public const string LockHeld = "The lock is held by a prepared transaction (SELECT gid FROM pg_prepared_xacts), which keeps its locks "
        + "until COMMIT PREPARED or ROLLBACK PREPARED. ZeroPg's engine runs one statement at a time, so a wait for such a lock "
        + "ends at lock_timeout or deadlock_timeout, whichever comes first, instead of blocking every client.";

    /// <summary>The hint the engine's ErrorResponse <paramref name="message"/> (whole) should get; null when none, or it has one.</summary>
    public static string? For(ReadOnlySpan<byte> message)
    {
        var error = ErrorReply.Parse(message);
        var hint = error.SqlState switch
        {
            SqlState.LockNotAvailable => LockHeld,
            _ => null,
        };
        return hint is not null && error.Hint is null ? hint : null;
    }
}
