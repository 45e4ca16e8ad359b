using System.Globalization;
using ZeroPg.Protocol;

namespace ZeroPg.Sessions;

/// <summary>
/// Postgres's session-ending idle timeouts, kept per client by ZeroPg: raised inside the shared engine they
/// would end every client's session, so the engine never raises them (engine-host/cancel-listener.mjs), and the
/// client's own values (SET, startup options, as <see cref="SessionSettings"/> holds them) are enforced here
/// while it sits idle: idle_in_transaction_session_timeout (with the server's --idle-in-transaction-timeout,
/// whichever is shorter), idle_session_timeout, and the server's --contended-idle-timeout (<see cref="ZeroPgOptions.ContendedIdleTimeout"/>). Asked before every idle read, so it allocates nothing until
/// a limit fires (<see cref="ErrorFor"/>). Thread: the session.
/// </summary>
internal sealed class SessionTimeouts(ZeroPgOptions options, SessionSettings settings, ProtocolState state)
{
    /// <summary>How long the client may stay idle now; null when nothing limits it.</summary>
    public IdleLimit? Current(bool holdsEngine)
    {
        var own = Own(holdsEngine);
        // Holding the engine while idle costs the others their turn: bounded when someone waits (ClientSession re-arms it while nobody does).
        var contended = holdsEngine && (state.Status != TransactionStatus.Idle || state.SequenceOpenInEngine || state.InCopy) ? options.ContendedIdleTimeout : TimeSpan.Zero;
        var kind = IdleLimitKind.Contended;
        if (contended > ShortLimit && !state.InCopy)
        {
            if (state.Status == TransactionStatus.Failed)
                (contended, kind) = (ShortLimit, IdleLimitKind.ContendedAborted);
            else if (state.Status == TransactionStatus.Idle && state.SequenceOpenInEngine)
                (contended, kind) = (ShortLimit, IdleLimitKind.ContendedUnsynced);
        }
        return contended > TimeSpan.Zero && (own is null || contended < own.Value.After) ? new IdleLimit(contended, kind) : own;
    }

    /// <summary>
    /// The contended limit of a client idle in a failed transaction block, or outside a block with an extended sequence it has
    /// not ended by Sync: the shorter of this and --contended-idle-timeout (5 s). The 5 s are there for a healthy client slowed
    /// between two statements of its transaction; a failed block can do nothing but end, and a client's driver ends its
    /// sequence with a Sync as it sends it (Npgsql, pgjdbc, libpq outside pipeline mode). Issue 59's fuzzer: clients idle in
    /// aborted blocks or unsynced sequences until they dropped held the engine 1.1-2.8 s, the witness waiting behind them.
    /// A pipeline sent ahead in a block gets it too (UnitRunner): no gap of the client's is in it.
    /// </summary>
    internal static readonly TimeSpan ShortLimit = TimeSpan.FromSeconds(1);

    /// <summary>The limit that applies besides the contended one (<see cref="IdleLimitKind.Contended"/>): the client's own and the server's idle timeouts.</summary>
    public IdleLimit? Own(bool holdsEngine)
    {
        if (state.Status == TransactionStatus.Idle)
        {
            var idle = Setting("idle_session_timeout");
            return idle > TimeSpan.Zero ? new IdleLimit(idle, IdleLimitKind.Session) : null;
        }
        var client = Setting("idle_in_transaction_session_timeout");
        // The server's limit applies while the client holds the shared engine (a deferred BEGIN does not hold it yet).
        var server = holdsEngine ? options.IdleInTransactionTimeout : TimeSpan.Zero;
        IdleLimit? limit = client <= TimeSpan.Zero && server <= TimeSpan.Zero ? null
            : server > TimeSpan.Zero && (client <= TimeSpan.Zero || server < client)
                ? new IdleLimit(server, IdleLimitKind.ServerInTransaction)
                : new IdleLimit(client, IdleLimitKind.InTransaction);
        // A COPY inside a transaction block holds the engine until CopyDone: its data may not stall for long (Sessions/Copy).
        var copy = state.InCopy && holdsEngine ? options.CopyStallTimeout : TimeSpan.Zero;
        return copy > TimeSpan.Zero && (limit is null || copy < limit.Value.After) ? new IdleLimit(copy, IdleLimitKind.CopyStalled) : limit;
    }

    /// <summary>The FATAL that ends the connection of a client idle past <paramref name="limit"/>.</summary>
    public static PgError ErrorFor(IdleLimit limit) => limit.Kind switch
    {
        IdleLimitKind.Contended => PgError.Fatal(SqlState.IdleInTransactionTimeout, "terminating connection: idle while holding the shared engine that other clients wait for",
            $"The client sat idle for {Describe(limit.After)} inside a transaction (or an extended-query sequence not ended by Sync) while another client waited {Describe(limit.After)} for the engine every client of this database shares; its transaction was rolled back. Commit or roll back without pausing, or raise --contended-idle-timeout (0 = off)."),
        IdleLimitKind.ContendedAborted => PgError.Fatal(SqlState.IdleInTransactionTimeout, "terminating connection: idle in a failed transaction while holding the shared engine that other clients wait for",
            $"The client's transaction had already failed, and it sat idle for {Describe(limit.After)} without ending it while another client waited {Describe(limit.After)} for the engine every client of this database shares; its transaction was rolled back. Send ROLLBACK as soon as a statement of a transaction fails, or raise --contended-idle-timeout (0 = off; a failed transaction gets the shorter of it and 1 s)."),
        IdleLimitKind.ContendedUnsynced => PgError.Fatal(SqlState.IdleInTransactionTimeout, "terminating connection: idle in an extended-query sequence not ended by Sync while holding the shared engine that other clients wait for",
            $"The client sat idle for {Describe(limit.After)} after extended-query messages it did not end with Sync, which keeps their implicit transaction open in the engine, while another client waited {Describe(limit.After)} for the engine every client of this database shares; that transaction was rolled back. Send Sync at the end of each batch, or raise --contended-idle-timeout (0 = off; an unsynced sequence gets the shorter of it and 1 s)."),
        IdleLimitKind.Session => PgError.Fatal(SqlState.IdleSessionTimeout, "terminating connection due to idle-session timeout",
            $"The client's idle_session_timeout ({Describe(limit.After)}) passed without a query."),
        IdleLimitKind.ServerInTransaction => PgError.Fatal(SqlState.IdleInTransactionTimeout, "terminating connection due to idle-in-transaction timeout",
            $"The client held the shared engine in an open transaction for more than {Describe(limit.After)} without sending anything; its transaction was rolled back. Raise --idle-in-transaction-timeout or keep transactions short."),
        IdleLimitKind.CopyStalled => PgError.Fatal(SqlState.IdleInTransactionTimeout, "terminating connection because COPY FROM STDIN sent no data",
            $"The client sent no COPY data for {Describe(limit.After)} while its COPY inside a transaction block held the shared engine; its transaction was rolled back. Send COPY data without pauses, COPY outside a transaction block (which holds nothing while the data comes), or raise --copy-stall-timeout."),
        _ => PgError.Fatal(SqlState.IdleInTransactionTimeout, "terminating connection due to idle-in-transaction timeout",
            $"The client's idle_in_transaction_session_timeout ({Describe(limit.After)}) passed in an open transaction; its transaction was rolled back."),
    };

    private TimeSpan Setting(string name)
        => settings.Values.TryGetValue(name, out var value) && TryParseMilliseconds(value, out var ms) && ms > 0
            ? TimeSpan.FromMilliseconds(ms) : TimeSpan.Zero;

    private static string Describe(TimeSpan span) => span.TotalSeconds >= 1 ? $"{span.TotalSeconds:0.###} s" : $"{span.TotalMilliseconds:0} ms";

    /// <summary>A Postgres time setting in milliseconds: a number with an optional unit (us, ms, s, min, h, d; none is ms).</summary>
    public static bool TryParseMilliseconds(ReadOnlySpan<char> text, out double milliseconds)
    {
        milliseconds = 0;
        var value = text.Trim();
        var end = 0;
        while (end < value.Length && (char.IsAsciiDigit(value[end]) || value[end] is '.' or '-' or '+'))
            end++;
        if (end == 0 || !double.TryParse(value[..end], NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            return false;
        var unit = value[end..].Trim();
        double factor;
        if (unit.IsEmpty || unit.Equals("ms", StringComparison.OrdinalIgnoreCase))
            factor = 1;
        else if (unit.Equals("us", StringComparison.OrdinalIgnoreCase))
            factor = 0.001;
        else if (unit.Equals("s", StringComparison.OrdinalIgnoreCase))
            factor = 1_000;
        else if (unit.Equals("min", StringComparison.OrdinalIgnoreCase))
            factor = 60_000;
        else if (unit.Equals("h", StringComparison.OrdinalIgnoreCase))
            factor = 3_600_000;
        else if (unit.Equals("d", StringComparison.OrdinalIgnoreCase))
            factor = 86_400_000;
        else
            return false;
        milliseconds = number * factor;
        return true;
    }
}

internal enum IdleLimitKind : byte
{
    /// <summary>idle_session_timeout, outside a transaction.</summary>
    Session,
    /// <summary>The client's idle_in_transaction_session_timeout.</summary>
    InTransaction,
    /// <summary>The server's --idle-in-transaction-timeout (shorter than the client's, or the client has none).</summary>
    ServerInTransaction,
    /// <summary>The server's --contended-idle-timeout: idle holding the engine while another client waits for it.</summary>
    Contended,
    /// <summary>As <see cref="Contended"/>, in a failed transaction block: at most <see cref="SessionTimeouts.ShortLimit"/>.</summary>
    ContendedAborted,
    /// <summary>As <see cref="Contended"/>, outside a block with an extended sequence not ended by Sync: at most <see cref="SessionTimeouts.ShortLimit"/>.</summary>
    ContendedUnsynced,
    /// <summary>The server's --copy-stall-timeout: COPY FROM STDIN data stopped coming inside a transaction block.</summary>
    CopyStalled,
}

/// <summary>How long a client may stay idle, and which timeout that is.</summary>
internal readonly record struct IdleLimit(TimeSpan After, IdleLimitKind Kind);
