namespace ZeroPg.Replication.Snapshots;

/// <summary>
/// What SET TRANSACTION SNAPSHOT 'name' of an exported snapshot becomes in the engine: a DO block that makes Postgres's own
/// checks (ImportSnapshot: isolation level, no query before it) and then the one that makes the import exact: no transaction
/// id was assigned in the engine since the snapshot was taken, so the importing transaction sees exactly its state (and keeps
/// seeing it: it holds the engine until it ends). Otherwise the import fails with Postgres's error for a snapshot that is gone (PG 17+: 42704, as the engine says for any
/// well-formed name it does not know).
/// </summary>
internal static class SnapshotImport
{
    public static string Sql(ExportedSnapshot snapshot)
    {
        var name = snapshot.Name.Replace("'", "''");
        return "DO $zeropg_snapshot$BEGIN"
            + " IF pg_catalog.current_setting('transaction_isolation') OPERATOR(pg_catalog.<>) ALL (ARRAY['repeatable read', 'serializable']) THEN"
            + " RAISE EXCEPTION USING ERRCODE = '0A000', MESSAGE = 'a snapshot-importing transaction must have isolation level SERIALIZABLE or REPEATABLE READ';"
            + " END IF;"
            + " IF pg_catalog.pg_current_xact_id_if_assigned() IS NOT NULL THEN"
            + " RAISE EXCEPTION USING ERRCODE = '25001', MESSAGE = 'SET TRANSACTION SNAPSHOT must be called before any query';"
            + " END IF;"
            + " IF pg_catalog.pg_snapshot_xmax(pg_catalog.pg_current_snapshot())::pg_catalog.text OPERATOR(pg_catalog.<>) '" + snapshot.NextXid + "' THEN"
            + " RAISE EXCEPTION USING ERRCODE = '42704', MESSAGE = 'snapshot \"" + name + "\" does not exist',"
            + " DETAIL = 'Another transaction wrote to the database after the snapshot was exported (slot \"" + snapshot.Slot.Replace("'", "''") + "\"): ZeroPg''s engine runs one transaction at a time, so a snapshot stays importable only until then.',"
            + " HINT = 'Import the snapshot soon after CREATE_REPLICATION_SLOT: writers wait for importers only while one runs, and for ExportedSnapshotHold after.';"
            + " END IF; END$zeropg_snapshot$";
    }
}
