using System.Text.RegularExpressions;

namespace ZeroPg.Compatibility;

/// <summary>SQL and settings that behave differently on ZeroPg than on a Postgres server (README's limits).</summary>
internal static partial class WarningFinder
{
    private sealed record Rule(string Code, string Message, Regex Pattern, bool SqlOnly = true);

    private static readonly Rule[] Rules =
    [
        // Each message is a claim tested against a server in tests/ZeroPg.Tests/Compatibility/CheckAdviceTests.cs. CREATE DATABASE,
        // publications, exported snapshots, the SQL slot functions, row filters and column lists work, so they get no warning.
        new("subscription", "CREATE SUBSCRIPTION fails: the WebAssembly engine cannot connect to another server. ZeroPg is a publisher only (publications, pgoutput streams, exported snapshots, the SQL slot functions).",
            new(@"\bCREATE\s+SUBSCRIPTION\b", RegexOptions.IgnoreCase)),
        // No timeout gets a warning: statement_timeout and lock_timeout fire inside the engine (engine-host/cancel-listener.mjs);
        // idle_session_timeout, idle_in_transaction_session_timeout and transaction_timeout are enforced per client by ZeroPg
        // (Sessions/SessionTimeouts.cs, Sessions/TransactionTimeout.cs).
        new("advisory-lock-in-transaction", "Session advisory locks are per client on ZeroPg; a blocking pg_advisory_lock inside a transaction block fails with 55P03 instead of waiting while another client holds it.",
            new(@"\bpg_advisory_lock\s*\(", RegexOptions.IgnoreCase)),
        new("concurrently", "CREATE INDEX CONCURRENTLY works but is not concurrent: the one engine session runs it while other clients wait. Like VACUUM, it cannot run in a transaction block: `serve --migrations` runs a Flyway-style or plain .sql migration holding it statement by statement, outside a transaction, as Flyway does.",
            new(@"\bCREATE\s+(UNIQUE\s+)?INDEX\s+CONCURRENTLY\b", RegexOptions.IgnoreCase)),
        new("discard-in-script", "DISCARD ALL / DISCARD TEMP inside a larger script runs in the shared engine session and resets state for every client (sent alone, it applies to its client only).",
            new(@"\bDISCARD\s+(ALL|TEMP|TEMPORARY)\b", RegexOptions.IgnoreCase)),
        new("fdw", "file_fdw is bundled, but the WebAssembly engine cannot read the host's files through it (58P01); postgres_fdw and dblink are not shipped by PGlite.",
            new(@"\b(file_fdw|postgres_fdw|dblink)\b", RegexOptions.IgnoreCase)),
        new("tls-required", "The connection settings require TLS: start the server with `zeropg serve --tls self-signed` (verify-ca/verify-full: give the client its server.crt as the root certificate) or --tls-cert/--tls-key; without a certificate ZeroPg refuses SSLRequest, as a Postgres server without ssl does.",
            new(@"\b(sslmode\s*=\s*(require|verify-ca|verify-full)|SSL\s*Mode\s*=\s*(Require|VerifyCA|VerifyFull))", RegexOptions.IgnoreCase), SqlOnly: false),
    ];

    public static IEnumerable<(string Code, string Message, int Line, string Text)> Find(string text, bool isSql)
    {
        var scanned = isSql ? SqlLineComment().Replace(text, m => new string(' ', m.Length)) : text;
        foreach (var rule in Rules)
        {
            if (rule.SqlOnly != isSql && rule.SqlOnly)
                continue;
            foreach (Match match in rule.Pattern.Matches(scanned))
                yield return (rule.Code, rule.Message, ExtensionFinder.LineOf(text, match.Index), ExtensionFinder.Snippet(text, match.Index));
        }
    }

    [GeneratedRegex("--[^\n]*")]
    private static partial Regex SqlLineComment();
}
