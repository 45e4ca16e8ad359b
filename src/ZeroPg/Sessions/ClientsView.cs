using ZeroPg.Sql;

namespace ZeroPg.Sessions;

/// <summary>
/// The connected clients as one client's SQL sees them: their pg_stat_activity rows, and which of them pg_terminate_backend /
/// pg_cancel_backend may signal, by Postgres's rules: a superuser any client; another role only clients logged in as the same
/// role, never a superuser's (Postgres also lets members of the target's role or of pg_signal_backend: not looked up here).
/// Read from the registry when the SQL is rewritten. The server's databases come from the database catalog of <paramref name="services"/>.
/// </summary>
internal sealed class ClientsView(SessionRegistry registry, SessionIdentity identity, SessionServices? services = null) : ISqlSessionView
{
    public string OtherDatabases() => services?.Databases is { } databases ? databases.Listing.Rows(services.DatabaseName) : "";

    public string OtherDatabaseKeys() => services?.Databases is { } databases ? databases.Listing.Keys(services.DatabaseName) : "'{}'::pg_catalog.text[]";

    public string OtherDatabaseSizes() => services?.Databases is { } databases ? databases.Listing.SizeRows(services.DatabaseName) : "";

    public string ActivityRows() => SessionActivity.ValuesSql(registry);

    public string ClientPids() => PidArray(registry.Sessions.Where(s => MaySignal(s.Identity)));

    public string DeniedPids() => PidArray(registry.Sessions.Where(s => !MaySignal(s.Identity)));

    private bool MaySignal(SessionIdentity target)
        => identity.IsSuperuser || (!target.IsSuperuser && target.Role == identity.Role);

    private static string PidArray(IEnumerable<ClientSession> sessions)
        => "'{" + string.Join(",", sessions.Select(s => s.Identity.ProcessId)) + "}'::pg_catalog.int4[]";
}
