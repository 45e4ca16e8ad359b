namespace ZeroPg.Sql;

/// <summary>Postgres functions whose calls ZeroPg rewrites to its own (<see cref="SqlEffectsScanner"/>).</summary>
internal static class ReplacedFunctions
{
    /// <summary>Session advisory lock functions: ZeroPg's per-client ones (Sessions/AdvisoryLocks), by upper-case name.</summary>
    public static readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> Advisory = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["PG_ADVISORY_LOCK"] = "pg_advisory_lock",
        ["PG_ADVISORY_LOCK_SHARED"] = "pg_advisory_lock_shared",
        ["PG_TRY_ADVISORY_LOCK"] = "pg_try_advisory_lock",
        ["PG_TRY_ADVISORY_LOCK_SHARED"] = "pg_try_advisory_lock_shared",
        ["PG_ADVISORY_UNLOCK"] = "pg_advisory_unlock",
        ["PG_ADVISORY_UNLOCK_SHARED"] = "pg_advisory_unlock_shared",
        ["PG_ADVISORY_UNLOCK_ALL"] = "pg_advisory_unlock_all",
    }.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>Postgres's slot functions ZeroPg answers with its own (Replication/Slots).</summary>
    public static readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> Slots = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["PG_CREATE_LOGICAL_REPLICATION_SLOT"] = "pg_create_logical_replication_slot",
        ["PG_DROP_REPLICATION_SLOT"] = "pg_drop_replication_slot",
        ["PG_REPLICATION_SLOT_ADVANCE"] = "pg_replication_slot_advance",
        ["PG_LOGICAL_SLOT_GET_CHANGES"] = "pg_logical_slot_get_changes",
        ["PG_LOGICAL_SLOT_PEEK_CHANGES"] = "pg_logical_slot_peek_changes",
        ["PG_LOGICAL_SLOT_GET_BINARY_CHANGES"] = "pg_logical_slot_get_binary_changes",
        ["PG_LOGICAL_SLOT_PEEK_BINARY_CHANGES"] = "pg_logical_slot_peek_binary_changes",
    }.GetAlternateLookup<ReadOnlySpan<char>>();
}
