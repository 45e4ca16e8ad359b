namespace ZeroPg.Replication.Capture;

/// <summary>
/// Prepared transactions in the change log. A prepared transaction's captured rows become visible only at COMMIT PREPARED,
/// behind transactions that committed since its PREPARE (and may already be sent and confirmed). So right before a client's
/// COMMIT PREPARED, in the same hold of the engine (nothing runs in between), ZeroPg writes a marker row (op 'K', the gid in
/// prefix) for every transaction prepared in the database: the marker stands where the commit is, and the stream and the SQL
/// decoder send the transaction's rows there, with the marker's LSN as the commit's (Walsender/CapturedChange,
/// Slots/SlotDecoding). A marker whose transaction did not commit then (its COMMIT PREPARED failed, or it named another gid)
/// decodes to nothing: a prepared transaction's rows stay invisible until it commits, and a rolled-back one's never appear.
/// Without two_phase, Postgres too decodes a prepared transaction at its COMMIT PREPARED, as one ordinary transaction.
/// </summary>
internal static class PreparedCommits
{
    public const string Install = """
        -- Data directories from before prepared transactions were decoded refused their PREPARE with a pending NOTIFY. Dropped
        -- only when there: DROP TRIGGER locks the table even when the trigger is missing, and a prepared transaction that
        -- captured a change holds a lock on it that conflicts (this install runs again at every walsender's start).
        DO $$BEGIN
            IF EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = 'zeropg_repl.changes'::regclass AND tgname = 'zeropg_repl_refuse_prepare') THEN
                DROP TRIGGER zeropg_repl_refuse_prepare ON zeropg_repl.changes;
            END IF;
        END$$;
        DROP FUNCTION IF EXISTS zeropg_repl.refuse_prepare();

        -- The 64-bit form of a 32-bit xid no older than 2^31 transactions (pg_prepared_xacts.transaction is an xid).
        CREATE OR REPLACE FUNCTION zeropg_repl.full_xid(x xid) RETURNS xid8
        LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
            SELECT (CASE WHEN x::text::numeric <= n % 4294967296 THEN n - n % 4294967296 ELSE n - n % 4294967296 - 4294967296 END
                    + x::text::numeric)::text::xid8
            FROM (SELECT pg_snapshot_xmax(pg_current_snapshot())::text::numeric AS n) cur
        $$;

        CREATE OR REPLACE FUNCTION zeropg_repl.mark_prepared_commits() RETURNS void
        LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
            INSERT INTO zeropg_repl.changes (xid, op, prefix)
            SELECT zeropg_repl.full_xid(p.transaction), 'K', p.gid FROM pg_prepared_xacts p
            WHERE p.database = current_database()
              -- Without a slot nothing is decoded, and the log is only purged by a slot's reads.
              AND EXISTS (SELECT 1 FROM zeropg_repl.slots)
            ORDER BY p.prepared
        $$;
        """;

    /// <summary>Run by the session right before a unit that commits a prepared transaction, while the client has no transaction open.
    /// Nothing when the capture schema is not installed (nothing is published) or predates the marker.</summary>
    public const string MarkSql = "DO $$BEGIN IF pg_catalog.to_regprocedure('zeropg_repl.mark_prepared_commits()') IS NOT NULL"
        + " THEN PERFORM zeropg_repl.mark_prepared_commits(); END IF; END$$";
}
