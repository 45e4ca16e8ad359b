using System.Text;
using System.Text.RegularExpressions;

namespace ZeroPg.Engine.Pooled;

/// <summary>
/// One pooled client's session settings, so that a SET costs no backend of its own: its startup parameters, then what its
/// backend's session held the last time the client gave a backend back after a statement that may change settings (SET,
/// RESET, set_config, DISCARD: <see cref="SessionPins"/>), read from pg_settings (<see cref="ReadBackSql"/>), so a
/// rolled-back SET or a failed one is followed as Postgres has it. Every backend the client gets whose settings differ is
/// reset and given the client's (<see cref="PooledClient"/>'s preamble), as the PGlite session layer's SessionSettings does
/// for its one engine session. application_name is kept apart (<see cref="PooledClient.ApplicationName"/>). The role (SET ROLE)
/// is not in pg_settings and RESET ALL leaves it: it is read by name, set last (a setting only the login role may set goes
/// first) and cleared by <see cref="PooledBackend.ResetSql"/>; a backend given it is checked first (<see cref="Role"/>).
/// SET SESSION AUTHORIZATION still pins (<see cref="SessionPins"/>); one the scan missed is seen in the session user read back.
/// Custom settings (myapp.tenant) are not listed either (placeholders): every dotted name the client's setting statements
/// mention is read by name. Thread: the client's gate holder.
/// </summary>
internal sealed partial class PooledSettings
{
    /// <summary>
    /// The backend session's own settings (source 'session'), then its application_name in a row without a name, its role
    /// ('none' when not set) and its session user, which pg_settings does not list.
    /// </summary>
    private const string ListedSql = "SELECT name, pg_catalog.current_setting(name) FROM pg_catalog.pg_settings WHERE source = 'session'"
        + " AND name <> 'application_name' UNION ALL SELECT NULL, pg_catalog.current_setting('application_name')"
        + " UNION ALL SELECT 'role', pg_catalog.current_setting('role') UNION ALL SELECT 'session_authorization', session_user::pg_catalog.text";

    private readonly List<(string Name, string Value)> _startup;
    private readonly SortedSet<string> _customNames = new(StringComparer.Ordinal);

    [GeneratedRegex(@"[A-Za-z_][A-Za-z0-9_$]*\.[A-Za-z_][A-Za-z0-9_$]*")]
    private static partial Regex DottedName();

    /// <summary>The SQL that reads the backend session's settings back: what pg_settings lists, and the custom names by name.</summary>
    public string ReadBackSql => _customNames.Count == 0 ? ListedSql
        : ListedSql + " UNION ALL SELECT n, pg_catalog.current_setting(n, true) FROM pg_catalog.unnest(ARRAY[" + string.Join(", ", _customNames.Select(Literal))
          + "]::pg_catalog.text[]) n WHERE pg_catalog.current_setting(n, true) IS NOT NULL";

    /// <summary>
    /// A statement that may change settings: its dotted names are read back by name from now on (a custom setting's name; a
    /// table's is read as missing, and is harmless).
    /// </summary>
    public void MayChange(string sql)
    {
        Changed = true;
        foreach (Match name in DottedName().Matches(sql))
            _customNames.Add(name.Value.ToLowerInvariant());
    }
    private List<(string Name, string Value)> _session = [];

    public PooledSettings(List<(string Name, string Value)> startup)
    {
        _startup = startup;
        foreach (var (name, _) in startup.Where(s => s.Name.Contains('.')))
            _customNames.Add(name.ToLowerInvariant());
        Role = startup.LastOrDefault(s => s.Name.Equals("role", StringComparison.OrdinalIgnoreCase)).Value is { Length: > 0 } role && role != "none" ? role : null;
        Sql = Render(startup.Where(s => !s.Name.Equals("role", StringComparison.OrdinalIgnoreCase)).ToList()) + RenderRole(Role);
    }

    /// <summary>What puts a reset backend in the client's settings (empty: none), and what a backend's <see cref="PooledBackend.Settings"/> is compared with.</summary>
    public string Sql { get; private set; }

    /// <summary>
    /// The role the client's session has (SET ROLE, or a startup role=), null when none. A backend that must be given it is given
    /// it in a round trip of its own before the client's message: a role that can no longer be set must not leave the client's
    /// statement running as the login role.
    /// </summary>
    public string? Role { get; private set; }

    /// <summary>The startup parameters were not yet set on a backend: the first lending sets them with a round trip, so a bad one is answered.</summary>
    public bool StartupUnchecked { get; set; }

    /// <summary>A statement since the last read-back may have changed the settings of the backend the client holds.</summary>
    public bool Changed { get; set; }

    /// <summary>
    /// Takes the rows of <see cref="ReadBackSql"/>: the backend's settings become the client's. A startup parameter the session no
    /// longer overrides (RESET, RESET ALL, DISCARD ALL) is the client's again, as RESET goes back to it in Postgres. Returns what the
    /// backend holds now (its <see cref="PooledBackend.Settings"/>), the session's application_name and its session user.
    /// </summary>
    public (string BackendSettings, string? ApplicationName, string? SessionUser) Take(List<string?[]> rows)
    {
        var session = new List<(string Name, string Value)>(rows.Count);
        string? applicationName = null;
        string? sessionUser = null;
        string? role = null;
        foreach (var row in rows)
        {
            switch (row[0])
            {
                case null:
                    applicationName = row[1];
                    break;
                case "role":
                    role = row[1] is null or "none" ? null : row[1];
                    break;
                case "session_authorization":
                    sessionUser = row[1];
                    break;
                case var name when !session.Any(own => own.Name.Equals(name, StringComparison.OrdinalIgnoreCase)):
                    session.Add((name, row[1] ?? "")); // an extension's setting is listed and may be named too
                    break;
            }
        }
        _session = session;
        Changed = false;
        var startupRole = _startup.LastOrDefault(s => s.Name.Equals("role", StringComparison.OrdinalIgnoreCase)).Value;
        var held = Render(session) + RenderRole(role);
        // RESET ROLE goes back to a startup role as RESET does; a startup role= is otherwise the role the session has.
        var missing = _startup.Where(s => !s.Name.Equals("role", StringComparison.OrdinalIgnoreCase)
            && !session.Any(own => own.Name.Equals(s.Name, StringComparison.OrdinalIgnoreCase))).ToList();
        Role = role ?? (startupRole is { Length: > 0 } && startupRole != "none" ? startupRole : null);
        Sql = missing.Count == 0 && Role == role ? held : Render(session) + Render(missing) + RenderRole(Role);
        return (held, applicationName, sessionUser);
    }

    /// <summary>The role last: a setting before it may need the login role's privileges.</summary>
    private static string RenderRole(string? role) => role is null ? "" : "SELECT pg_catalog.set_config('role', " + Literal(role) + ", false);";

    /// <summary>
    /// set_config calls, not SETs: they take a value as current_setting shows it (a list such as search_path stays a list). E''
    /// literals: they read the same whatever standard_conforming_strings the backend has when it parses them.
    /// </summary>
    private static string Render(List<(string Name, string Value)> settings)
    {
        var sql = new StringBuilder();
        foreach (var (name, value) in settings)
            sql.Append("SELECT pg_catalog.set_config(").Append(Literal(name)).Append(", ").Append(Literal(value)).Append(", false);");
        return sql.ToString();
    }

    private static string Literal(string text) => "E'" + text.Replace("\\", "\\\\").Replace("'", "''") + "'";
}
