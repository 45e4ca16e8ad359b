namespace ZeroPg.Replication.Capture;

/// <summary>
/// Two-phase slots (CREATE_REPLICATION_SLOT ... TWO_PHASE, or START_REPLICATION with two_phase): a prepared transaction goes out
/// at its PREPARE as Begin Prepare, its changes, Prepare, and later as Commit Prepared or Rollback Prepared. Once prepared, its
/// captured rows cannot be read from outside it (they become visible at COMMIT PREPARED). So when a client's unit starts with
/// PREPARE TRANSACTION inside an open transaction and a two-phase slot exists, the session reads the transaction's captured rows
/// from inside it first (<see cref="ReadSql"/>), and once the PREPARE succeeded writes copies of them to
/// zeropg_repl.prepared_changes and a marker row in the change log (op 'P', the gid in prefix, the prepare time in at;
/// <see cref="RecordSql"/>). The marker stands where the transaction was prepared: the stream sends the copies there
/// (Walsender/CapturedChange). Its end is told by the marker written right before a COMMIT PREPARED or ROLLBACK PREPARED
/// (<see cref="PreparedCommits"/>) and pg_xact_status. A transaction prepared otherwise (its PREPARE TRANSACTION after other
/// statements of the same unit, or while no two-phase slot existed) has no marker: it goes out whole at its COMMIT PREPARED, as
/// Postgres sends one prepared before the slot's two_phase_at.
/// </summary>
internal static class TwoPhasePrepares
{
    public const string Install = """
        -- zeropg_repl.changes' columns; rows copied at PREPARE, kept until every slot confirmed the prepare (purge()).
        CREATE TABLE IF NOT EXISTS zeropg_repl.prepared_changes (
            seq bigint PRIMARY KEY, xid xid8 NOT NULL, lsn pg_lsn NOT NULL, at timestamptz NOT NULL, relid oid, op "char" NOT NULL,
            old_row text, new_row text, prefix text, content bytea);
        -- Made only when missing: CREATE INDEX IF NOT EXISTS locks the table and CREATE OR REPLACE VIEW the view, and an install run
        -- inside a transaction that is then prepared would keep those locks until its COMMIT PREPARED.
        DO $$BEGIN
            IF to_regclass('zeropg_repl.prepared_changes_xid') IS NULL THEN
                CREATE INDEX prepared_changes_xid ON zeropg_repl.prepared_changes (xid);
            END IF;
            IF to_regclass('zeropg_repl.decodable_changes') IS NULL THEN
                -- What the stream's value and row-filter queries read by seq: a prepared transaction's copies until its own rows are visible.
                CREATE VIEW zeropg_repl.decodable_changes AS
                    SELECT * FROM zeropg_repl.changes
                    UNION ALL
                    SELECT p.* FROM zeropg_repl.prepared_changes p WHERE NOT EXISTS (SELECT 1 FROM zeropg_repl.changes c WHERE c.seq = p.seq);
            END IF;
        END$$;

        -- Run inside the client's transaction right before its PREPARE TRANSACTION: its captured rows, when a two-phase slot exists.
        CREATE OR REPLACE FUNCTION zeropg_repl.prepared_rows() RETURNS TABLE (x text, rows text)
        LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
            SELECT pg_current_xact_id_if_assigned()::text, coalesce(jsonb_agg(to_jsonb(c) ORDER BY c.seq), '[]')::text
            FROM zeropg_repl.changes c WHERE c.xid = pg_current_xact_id_if_assigned()
            HAVING pg_current_xact_id_if_assigned() IS NOT NULL AND EXISTS (SELECT 1 FROM zeropg_repl.slots WHERE two_phase)
        $$;

        -- Right after the PREPARE: the copies and the marker, when the transaction is prepared (a failed PREPARE rolled it back).
        CREATE OR REPLACE FUNCTION zeropg_repl.record_prepare(x xid8, captured jsonb) RETURNS void
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        DECLARE p record;
        BEGIN
            SELECT gid, prepared INTO p FROM pg_prepared_xacts
            WHERE database = current_database() AND zeropg_repl.full_xid(transaction) = x;
            IF NOT FOUND THEN
                RETURN;
            END IF;
            INSERT INTO zeropg_repl.prepared_changes
            SELECT * FROM jsonb_populate_recordset(NULL::zeropg_repl.prepared_changes, captured) ON CONFLICT (seq) DO NOTHING;
            INSERT INTO zeropg_repl.changes (xid, op, prefix, at) VALUES (x, 'P', p.gid, p.prepared);
        END $$;
        -- Writes to the change log: ZeroPg's alone (prepared_rows stays callable by all: the client runs it, on its own transaction).
        REVOKE EXECUTE ON FUNCTION zeropg_repl.record_prepare(xid8, jsonb) FROM PUBLIC;
        """;

    /// <summary>Whether this engine has the functions (the capture schema may not be installed: then no slot exists).</summary>
    public const string InstalledSql = "SELECT pg_catalog.to_regprocedure('zeropg_repl.prepared_rows()') IS NOT NULL";

    /// <summary>Inside the client's transaction: its xid and captured rows as jsonb text; no row when no two-phase slot exists
    /// or the transaction has no xid.</summary>
    public const string ReadSql = "SELECT x, rows FROM zeropg_repl.prepared_rows()";

    public static string RecordSql(string xid, string rows)
    {
        var tag = "$zeropg_prepared$";
        for (var n = 0; rows.Contains(tag, StringComparison.Ordinal); n++)
            tag = $"$zeropg_prepared{n}$";
        return $"SELECT zeropg_repl.record_prepare({Walsender.EngineResults.Literal(xid)}::xid8, {tag}{rows}{tag}::jsonb)";
    }
}
