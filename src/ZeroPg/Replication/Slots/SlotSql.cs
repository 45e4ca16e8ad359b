using static ZeroPg.Replication.Walsender.EngineResults;

namespace ZeroPg.Replication.Slots;

/// <summary>The statements that keep slots in zeropg_repl.slots (see Capture/CaptureSchema): in the engine, so a
/// slot lives as long as the data directory and is read and written between other clients' units.</summary>
internal static class SlotSql
{
    private const string Columns = "slot_name, plugin, temporary, consistent_point::text, confirmed_flush_lsn::text";

    /// <summary>The new slot's row, or no row when the name is taken. Its consistent point is the WAL insert position:
    /// every change recorded later has a higher LSN (see CaptureSchema), so it is streamed, and none before is. A slot made
    /// after its reply (its <paramref name="consistentPoint"/> read earlier, in another client's transaction: Replication/README.md,
    /// "Exported snapshots") streams from there, or with <paramref name="streamFromNow"/> (its exported snapshot is taken now,
    /// so it holds what was committed in between) from the position now.</summary>
    /// <param name="twoPhase">TWO_PHASE: prepared transactions are decoded at PREPARE from the consistent point on (two_phase_at).</param>
    public static string Create(string name, string plugin, bool temporary, Lsn? consistentPoint = null, bool streamFromNow = false, bool twoPhase = false,
        bool failover = false)
    {
        var point = consistentPoint is { } lsn ? $"'{lsn}'::pg_lsn" : "pg_current_wal_insert_lsn()";
        var confirmed = streamFromNow ? "pg_current_wal_insert_lsn()" : point;
        return $"INSERT INTO zeropg_repl.slots (slot_name, plugin, temporary, consistent_point, confirmed_flush_lsn, two_phase, two_phase_at, failover) " +
               $"VALUES ({Literal(name)}, {Literal(plugin)}, {(temporary ? "true" : "false")}, {point}, {confirmed}, {(twoPhase ? "true" : "false")}, " +
               $"{(twoPhase ? confirmed : "NULL")}, {(failover ? "true" : "false")}) ON CONFLICT (slot_name) DO NOTHING RETURNING {AcquiredColumns}";
    }

    /// <summary>Two-phase decoding from <paramref name="at"/> on (START_REPLICATION with two_phase on a slot without it, as Postgres
    /// enables it then; ALTER_REPLICATION_SLOT's TWO_PHASE). Turning it off keeps nothing.</summary>
    public static string SetTwoPhase(string name, bool twoPhase, Lsn at)
        => twoPhase
            ? $"UPDATE zeropg_repl.slots SET two_phase = true, two_phase_at = '{at}'::pg_lsn WHERE slot_name = {Literal(name)} AND NOT two_phase"
            : $"UPDATE zeropg_repl.slots SET two_phase = false, two_phase_at = NULL WHERE slot_name = {Literal(name)}";

    public static string Get(string name) => $"SELECT {Columns} FROM zeropg_repl.slots WHERE slot_name = {Literal(name)}";

    public static string Drop(string name) => $"DELETE FROM zeropg_repl.slots WHERE slot_name = {Literal(name)} RETURNING slot_name";

    /// <summary>confirmed_flush_lsn only moves forward (a client that reports an older position does not rewind the slot).</summary>
    public static string Confirm(string name, Lsn flushed)
        => $"UPDATE zeropg_repl.slots SET confirmed_flush_lsn = greatest(confirmed_flush_lsn, '{flushed}'::pg_lsn) WHERE slot_name = {Literal(name)}";

    /// <summary>With why the slot can no longer be streamed (invalidation_reason) and the session a temporary slot belongs to.</summary>
    private const string AcquiredColumns = Columns + ", invalidation_reason, owner_pid::text, two_phase, two_phase_at::text";

    /// <summary>The slot for <paramref name="processId"/> to stream from, with Postgres's errors when it does not exist, another
    /// process holds it (<paramref name="activeJson"/>: the walsenders', <see cref="SlotActivity.ActiveJson"/>), or it was invalidated.</summary>
    public static string Acquire(string name, int processId, string activeJson)
        => $"SELECT {AcquiredColumns} FROM zeropg_repl.acquire_slot({Literal(name)}, {processId}, {Literal(activeJson)}::jsonb, true)";

    /// <summary>Drops the slot as pg_drop_replication_slot does: 42704 when missing, 55006 when another process holds it.</summary>
    public static string DropChecked(string name, int processId, string activeJson)
        => $"SELECT zeropg_repl.drop_slot({Literal(name)}, {processId}, {Literal(activeJson)}::jsonb)";

    /// <summary>The temporary slots a session made (pg_create_logical_replication_slot(..., true)), dropped when it leaves.</summary>
    public static string DropTemporary(int processId) => $"DELETE FROM zeropg_repl.slots WHERE temporary AND owner_pid = {processId}";

    /// <summary>The slot's stream ended: pg_replication_slots' inactive_since.</summary>
    public static string Released(string name) => $"UPDATE zeropg_repl.slots SET inactive_since = now() WHERE slot_name = {Literal(name)}";

    /// <summary>Why the slot can no longer be streamed ('wal_removed'), '' while it can; no row when it is gone.</summary>
    public static string Invalidation(string name) => $"SELECT coalesce(invalidation_reason, '') FROM zeropg_repl.slots WHERE slot_name = {Literal(name)}";

    /// <summary>ALTER_REPLICATION_SLOT's FAILOVER.</summary>
    public static string SetFailover(string name, bool failover)
        => $"UPDATE zeropg_repl.slots SET failover = {(failover ? "true" : "false")} WHERE slot_name = {Literal(name)}";

    /// <summary>Invalidates the slots more than max_slot_wal_keep_size behind, then drops the captured changes every valid slot
    /// has confirmed (whole transactions: a client may confirm a position inside one, and then the whole transaction is sent
    /// again, as Postgres does); all of them when no valid slot is left (zeropg_repl.maintain, Slots/SlotFunctions).</summary>
    public const string Purge = "SELECT zeropg_repl.maintain()";
}
