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
    public static string Create(string name, string plugin, bool temporary, Lsn? consistentPoint = null, bool streamFromNow = false)
    {
        var point = consistentPoint is { } lsn ? $"'{lsn}'::pg_lsn" : "pg_current_wal_insert_lsn()";
        var confirmed = streamFromNow ? "pg_current_wal_insert_lsn()" : point;
        return $"INSERT INTO zeropg_repl.slots (slot_name, plugin, temporary, consistent_point, confirmed_flush_lsn) " +
               $"VALUES ({Literal(name)}, {Literal(plugin)}, {(temporary ? "true" : "false")}, {point}, {confirmed}) " +
               $"ON CONFLICT (slot_name) DO NOTHING RETURNING {Columns}";
    }

    public static string Get(string name) => $"SELECT {Columns} FROM zeropg_repl.slots WHERE slot_name = {Literal(name)}";

    public static string Drop(string name) => $"DELETE FROM zeropg_repl.slots WHERE slot_name = {Literal(name)} RETURNING slot_name";

    /// <summary>confirmed_flush_lsn only moves forward (a client that reports an older position does not rewind the slot).</summary>
    public static string Confirm(string name, Lsn flushed)
        => $"UPDATE zeropg_repl.slots SET confirmed_flush_lsn = greatest(confirmed_flush_lsn, '{flushed}'::pg_lsn) WHERE slot_name = {Literal(name)}";

    /// <summary>Drops the captured changes of transactions every slot has confirmed (whole transactions: a client may
    /// confirm a position inside one, and then the whole transaction is sent again, as Postgres does); all of them
    /// when there is no slot left to stream them.</summary>
    public const string Purge = """
        DELETE FROM zeropg_repl.changes WHERE xid IN (
            SELECT xid FROM zeropg_repl.changes GROUP BY xid
            HAVING NOT EXISTS (SELECT 1 FROM zeropg_repl.slots)
                OR max(lsn) + 1::numeric < (SELECT min(confirmed_flush_lsn) FROM zeropg_repl.slots))
        """;
}
