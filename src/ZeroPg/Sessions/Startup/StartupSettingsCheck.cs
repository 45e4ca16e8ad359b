using System.Collections.Concurrent;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;

namespace ZeroPg.Sessions;

/// <summary>
/// A client's startup settings (startup parameters and <c>options=-c ...</c>) are checked by the engine before the client
/// is let in, so an invalid one gets Postgres's FATAL (22023 invalid value for parameter "statement_timeout": "abc") and
/// never reaches the shared engine session: each is set locally in a transaction that is rolled back. Pairs found valid
/// are remembered, so a driver's usual settings cost one engine call per server, not per connection. Shared by every
/// session of the server; the remembered pairs are a concurrent set.
/// </summary>
internal sealed class StartupSettingsCheck
{
    /// <summary>Checked elsewhere (client_encoding), always valid (application_name), or settable only before a transaction's first query.</summary>
    private static readonly HashSet<string> NotChecked = new(StringComparer.OrdinalIgnoreCase)
    {
        "client_encoding", "application_name", "transaction_isolation", "transaction_read_only", "transaction_deferrable",
    };

    private static readonly HashSet<string> Timeouts = new(StringComparer.OrdinalIgnoreCase)
    {
        "statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout", "transaction_timeout", "idle_session_timeout",
    };

    private const int MaxRemembered = 4096;
    private readonly ConcurrentDictionary<(string Name, string Value), bool> _valid = new();

    /// <summary>
    /// The statements that check what is not known valid yet as the client's login <paramref name="role"/> would set it (the role
    /// and the settings are undone by the rollback, so the engine session is left as another client may have it), or null.
    /// </summary>
    public IReadOnlyList<string>? Statements(IReadOnlyDictionary<string, string> settings, string role)
    {
        var unknown = settings.Where(s => !NotChecked.Contains(s.Key) && !_valid.ContainsKey((s.Key.ToLowerInvariant(), s.Value))).ToList();
        if (unknown.Count == 0)
            return null;
        var sets = string.Join(", ", unknown.Select(s => $"pg_catalog.set_config({Sql.SqlEdit.Literal(s.Key)}, {Sql.SqlEdit.Literal(s.Value)}, true)")
            // A timeout checked valid is put back to none in the same statement: -c statement_timeout=1 cancelled the ROLLBACK
            // after it (the client got FATAL 57014 for a valid setting, which Postgres accepts).
            .Concat(unknown.Where(s => Timeouts.Contains(s.Key)).Select(s => $"pg_catalog.set_config({Sql.SqlEdit.Literal(s.Key)}, '0', true)")));
        return ["BEGIN", "SET LOCAL SESSION AUTHORIZATION " + Sql.SqlEdit.Identifier(role), "SELECT " + sets, "ROLLBACK"];
    }

    /// <summary>The FATAL for the captured reply of <see cref="Statements"/>, or null when every setting was valid (then remembered).</summary>
    public PgError? Outcome(IReadOnlyDictionary<string, string> settings, IReadOnlyList<byte[]> reply)
    {
        if (reply.FirstError() is { } error)
            return error.ToError(SqlState.InvalidParameterValue, "invalid startup setting", fatal: true);
        if (_valid.Count < MaxRemembered)
        {
            foreach (var (name, value) in settings)
                _valid.TryAdd((name.ToLowerInvariant(), value), true);
        }
        return null;
    }
}
