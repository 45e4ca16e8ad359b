using System.Globalization;
using ZeroPg.Protocol;

namespace ZeroPg.Sessions;

/// <summary>
/// Postgres's session-ending idle timeouts, kept per client by ZeroPg: raised inside the shared engine they
/// would end every client's session, so the engine never raises them (engine-host/cancel-worker.mjs), and the
/// client's own values (SET, startup options, as <see cref="SessionSettings"/> holds them) are enforced here
/// while it sits idle: idle_in_transaction_session_timeout (with the server's --idle-in-transaction-timeout,
/// whichever is shorter) and idle_session_timeout. Thread: the session.
/// </summary>
internal sealed class SessionTimeouts(ZeroPgOptions options, SessionSettings settings, ProtocolState state)
{
    /// <summary>How long the client may stay idle now, and the FATAL it gets past that; null when nothing limits it.</summary>
    public IdleLimit? Current(bool holdsEngine)
    {
        if (state.Status == TransactionStatus.Idle)
        {
            var idle = Setting("idle_session_timeout");
            return idle > TimeSpan.Zero
                ? new IdleLimit(idle, PgError.Fatal(SqlState.IdleSessionTimeout, "terminating connection due to idle-session timeout",
                    $"The client's idle_session_timeout ({Describe(idle)}) passed without a query."))
                : null;
        }
        var own = Setting("idle_in_transaction_session_timeout");
        // The server's limit applies while the client holds the shared engine (a deferred BEGIN does not hold it yet).
        var server = holdsEngine ? options.IdleInTransactionTimeout : TimeSpan.Zero;
        if (own <= TimeSpan.Zero && server <= TimeSpan.Zero)
            return null;
        var byServer = server > TimeSpan.Zero && (own <= TimeSpan.Zero || server < own);
        var after = byServer ? server : own;
        var hint = byServer
            ? $"The client held the shared engine in an open transaction for more than {Describe(after)} without sending anything; its transaction was rolled back. Raise --idle-in-transaction-timeout or keep transactions short."
            : $"The client's idle_in_transaction_session_timeout ({Describe(after)}) passed in an open transaction; its transaction was rolled back.";
        return new IdleLimit(after, PgError.Fatal(SqlState.IdleInTransactionTimeout, "terminating connection due to idle-in-transaction timeout", hint));
    }

    private TimeSpan Setting(string name)
        => settings.Values.TryGetValue(name, out var value) && TryParseMilliseconds(value, out var ms) && ms > 0
            ? TimeSpan.FromMilliseconds(ms) : TimeSpan.Zero;

    private static string Describe(TimeSpan span) => span.TotalSeconds >= 1 ? $"{span.TotalSeconds:0.###} s" : $"{span.TotalMilliseconds:0} ms";

    /// <summary>A Postgres time setting in milliseconds: a number with an optional unit (us, ms, s, min, h, d; none is ms).</summary>
    public static bool TryParseMilliseconds(string text, out double milliseconds)
    {
        milliseconds = 0;
        var value = text.Trim();
        var end = 0;
        while (end < value.Length && (char.IsAsciiDigit(value[end]) || value[end] is '.' or '-' or '+'))
            end++;
        if (end == 0 || !double.TryParse(value[..end], NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            return false;
        double? factor = value[end..].Trim().ToLowerInvariant() switch
        {
            "" or "ms" => 1,
            "us" => 0.001,
            "s" => 1_000,
            "min" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => null,
        };
        if (factor is null)
            return false;
        milliseconds = number * factor.Value;
        return true;
    }
}

/// <summary>How long a client may stay idle, and the error that ends its connection past that.</summary>
internal readonly record struct IdleLimit(TimeSpan After, PgError Error);
