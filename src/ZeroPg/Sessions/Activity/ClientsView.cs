using ZeroPg.Sql;

namespace ZeroPg.Sessions;

/// <summary>
/// The connected clients as one client's SQL sees them: their pg_stat_activity rows, and which of them pg_terminate_backend /
/// pg_cancel_backend may signal, by Postgres's rules: a superuser any client; another role only clients logged in as the same
/// role, never a superuser's (Postgres also lets members of the target's role or of pg_signal_backend: not looked up here).
/// Read from the registry when the SQL is rewritten. With the database's services, SET TRANSACTION SNAPSHOT of a snapshot
/// exported there becomes its import (Replication/Snapshots), and the server's databases come from its database catalog.
/// </summary>
internal sealed class ClientsView(SessionRegistry registry, SessionIdentity identity, SessionServices? services = null, TempRelations? temp = null)
    : ISqlSessionView
{
    public bool HasTempSchema() => temp?.MadeAny ?? false;

    public string? SnapshotImport(string name)
        => services?.Snapshots.Find(name, services.Engine.Generation) is { } snapshot ? Replication.Snapshots.SnapshotImport.Sql(snapshot) : null;

    public string OtherDatabases() => services?.Databases is { } databases ? databases.Listing.Rows(services.DatabaseName) : "";

    public string OtherDatabaseKeys() => services?.Databases is { } databases ? databases.Listing.Keys(services.DatabaseName) : "'{}'::pg_catalog.text[]";

    public string OtherDatabaseSizes() => services?.Databases is { } databases ? databases.Listing.SizeRows(services.DatabaseName) : "";

    public string ActivityRows() => SessionActivity.ValuesSql(registry);

    public string ClientPids() => PidArray(registry.Sessions.Where(s => MaySignal(s.Identity)));

    public string DeniedPids() => PidArray(registry.Sessions.Where(s => !MaySignal(s.Identity)));

    private bool MaySignal(SessionIdentity target)
        => identity.IsSuperuser || (!target.IsSuperuser && target.Role == identity.Role);

    /// <summary>The slots this database's walsenders stream from now.</summary>
    public string ActiveSlots() => SqlEdit.Literal(services?.ReplicationSlots.ActiveJson() ?? "{}") + "::pg_catalog.jsonb";

    public string OtherSlots() => services?.Databases is { } databases ? databases.Slots.OtherRows(services.DatabaseName) : "";

    /// <summary>Every database's streaming walsenders, as Postgres lists the whole cluster's.</summary>
    public string StatReplication() => Replication.Slots.StatReplication.Sql(registry.Sessions
        .Select(s => (Session: s, Progress: s.Services.ReplicationSlots.ProgressOf(s.Identity.ProcessId)))
        .Where(x => x.Progress is not null)
        .Select(x => new Replication.Slots.WalsenderRow(x.Session.Identity.ProcessId, x.Session.Identity.Role,
            x.Session.Activity.Current.ApplicationName, x.Session.Activity.Client.Address, x.Session.Activity.Client.Port,
            x.Session.Activity.BackendStart, x.Progress!.Current)));

    private static string PidArray(IEnumerable<ClientSession> sessions)
        => "'{" + string.Join(",", sessions.Select(s => s.Identity.ProcessId)) + "}'::pg_catalog.int4[]";
}
