using ZeroPg.Replication.Walsender;

namespace ZeroPg.Replication.Snapshots;

/// <summary>
/// One walsender session's side of exported snapshots: the snapshots it exports (the session is their exporter in the engine
/// scheduler's eyes), and the WAL position it may read inside another client's open transaction when that transaction holds
/// the engine (<see cref="EngineLoan"/>). Thread: the walsender session's.
/// </summary>
internal sealed class SnapshotExports(object session, ExportedSnapshots snapshots, Func<int> generation, EngineLoan borrow)
{
    /// <summary>Read in the transaction that holds the engine: the WAL insert position, and whether that transaction has an id.</summary>
    private const string PositionSql = "SELECT pg_catalog.pg_current_wal_insert_lsn()::pg_catalog.text, pg_catalog.pg_current_xact_id_if_assigned()::pg_catalog.text";

    /// <summary>The first transaction id not yet assigned, read right after the slot is made.</summary>
    public const string NextXidSql = "SELECT pg_catalog.pg_snapshot_xmax(pg_catalog.pg_current_snapshot())::pg_catalog.text";

    public ExportedSnapshot Begin(string slot, int processId) => snapshots.Begin(session, processId, slot);

    public void Take(ExportedSnapshot snapshot, string nextXid) => snapshots.Take(snapshot, nextXid, generation());

    /// <summary>The session ran another command or leaves: what it exported is gone.</summary>
    public void EndAll() => snapshots.End(session);

    /// <summary>
    /// The WAL insert position, read inside the open transaction of the client that holds the engine; null when the engine is
    /// free or its holder cannot lend it. Without an exported snapshot, only when that transaction has no transaction id yet
    /// (Postgres makes a slot without waiting for such a transaction; it waits for one that has an id, and so does ZeroPg:
    /// null): its changes would commit after the slot's start yet be recorded before it. With one, the snapshot is taken after
    /// that transaction ends and holds what it wrote, which the slot then does not stream (its confirmed position is taken
    /// with the snapshot), so its id does not matter (ZeroPg's own install of the capture schema in it gives it one).
    /// </summary>
    public async Task<Lsn?> BorrowPositionAsync(bool exporting)
    {
        if (await borrow([PositionSql]) is not [[var row, ..], ..] || (row[1] is not null && !exporting) || !Lsn.TryParse(row[0], out var position))
            return null;
        return position;
    }
}
