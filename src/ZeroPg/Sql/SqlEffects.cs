namespace ZeroPg.Sql;

/// <summary>What a SQL text does to the session state ZeroPg keeps per client. Immutable; <see cref="None"/> for most SQL.</summary>
internal sealed class SqlEffects
{
    public static readonly SqlEffects None = new();

    public bool SettingsChanged { get; init; }
    public bool TempObjectsChanged { get; init; }
    public bool UsesAdvisoryLocks { get; init; }

    /// <summary>Calls pg_logical_emit_message: rewritten to ZeroPg's capture (Replication/Capture), installed first.</summary>
    public bool EmitsLogicalMessages { get; init; }
    /// <summary>SET TRANSACTION SNAPSHOT: imports a snapshot exported by CREATE_REPLICATION_SLOT (Replication/Snapshots).</summary>
    public bool ImportsSnapshot { get; init; }

    /// <summary>DECLARE: the client may hold cursors (WITH HOLD ones outlive its transaction and are closed when it leaves).</summary>
    public bool DeclaresCursor { get; init; }

    /// <summary>DISCARD ALL / TEMP: every temp object of the engine session goes.</summary>
    public bool DropsAllTemp { get; init; }

    /// <summary>DISCARD ALL also unlistens every channel of the engine session.</summary>
    public bool UnlistensEngine { get; init; }

    public bool UnlistenAll { get; init; }
    public IReadOnlyList<string> Listen { get; init; } = [];
    public IReadOnlyList<string> Unlisten { get; init; } = [];

    /// <summary>
    /// Every setting the SQL changes for the session is named by a plain SET or RESET (<see cref="SetNames"/>): no RESET ALL,
    /// no SET ROLE or SESSION AUTHORIZATION, no set_config, no DISCARD. ZeroPg then reads back those names only.
    /// </summary>
    public bool SettingsOnlyByName { get; init; }

    /// <summary>The settings named by the SQL's SET and RESET statements (lower case; custom ones as written), when <see cref="SettingsOnlyByName"/>.</summary>
    public IReadOnlyList<string> SetNames { get; init; } = [];

    /// <summary>Custom (dotted) setting names the SQL sets: Postgres does not list them in pg_settings.</summary>
    public IReadOnlyList<string> CustomSettings { get; init; } = [];

    /// <summary>Calls pg_database_size: the sizes of the server's other databases are read first (<see cref="Databases.DatabaseListing.RefreshSizesAsync"/>).</summary>
    public bool ReadsDatabaseSizes { get; init; }

    /// <summary>Extensions the SQL creates or updates (CREATE / ALTER EXTENSION, also inside DO blocks and function bodies): their files are loaded into the engine first.</summary>
    public IReadOnlyList<string> Extensions { get; init; } = [];

    public bool IsNone => ReferenceEquals(this, None);
}
