namespace ZeroPg.Replication.Capture;

/// <summary>
/// Non-transactional logical messages (<c>pg_logical_emit_message(false, ...)</c>) that outlive a rollback, as Postgres's do. The
/// message is recorded in the caller's transaction like every change (<see cref="CaptureSchema"/>), which a rollback of that
/// transaction or of a savepoint would undo; so the engine also announces it at once in a NOTICE with <see cref="SqlState"/>, which
/// only ZeroPg sees (Sessions/HeldMessages), and once the caller's transaction has ended ZeroPg hands the announcements back to
/// <c>zeropg_repl.rescue_messages</c>, which writes again each row that is gone. In place (its own seq, xid, LSN and time), so it
/// goes out where Postgres sends it (ahead of its transaction, or alone), when no stream can have read past it: no other
/// transaction committed a row after it, and (<c>in_place</c>) its own transaction, if it committed, was not readable since;
/// otherwise as a new row at the current position. Skipped: a row that is there (committed), a message no valid slot would read, one still
/// in a prepared transaction, and a committed one at or below every slot's confirmed position (purged after delivery, not undone).
/// </summary>
internal static class NonTransactionalMessages
{
    /// <summary>The SQLSTATE of the announcement (class ZR: ZeroPg's replication; never a client's).</summary>
    public const string SqlState = "ZRM01";

    public const string Install = """

        CREATE OR REPLACE FUNCTION zeropg_repl.rescue_messages(held jsonb, in_place boolean) RETURNS void
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        DECLARE m record; horizon pg_lsn;
        BEGIN
            SELECT min(confirmed_flush_lsn) INTO horizon FROM zeropg_repl.slots WHERE invalidation_reason IS NULL;
            IF horizon IS NULL THEN
                RETURN;
            END IF;
            FOR m IN SELECT * FROM jsonb_to_recordset(held) AS h(seq bigint, xid xid8, lsn pg_lsn, at timestamptz, prefix text, content text) ORDER BY h.seq LOOP
                CONTINUE WHEN EXISTS (SELECT 1 FROM zeropg_repl.changes c WHERE c.seq = m.seq);
                CONTINUE WHEN pg_xact_status(m.xid) IS DISTINCT FROM 'aborted'
                    AND (pg_xact_status(m.xid) = 'in progress' OR m.lsn + 1::numeric < horizon);
                IF in_place AND NOT EXISTS (SELECT 1 FROM zeropg_repl.changes c WHERE c.seq > m.seq AND c.xid <> m.xid) THEN
                    INSERT INTO zeropg_repl.changes (seq, xid, lsn, at, op, prefix, content) OVERRIDING SYSTEM VALUE
                    VALUES (m.seq, m.xid, m.lsn, m.at, 'm', m.prefix, decode(m.content, 'hex'));
                ELSE
                    INSERT INTO zeropg_repl.changes (op, prefix, content) VALUES ('m', m.prefix, decode(m.content, 'hex'));
                END IF;
            END LOOP;
        END $$;
        """;

    /// <summary>The rescue of the announcements (each the JSON text of one NOTICE's message).</summary>
    public static string RescueSql(IEnumerable<string> announcements, bool inPlace)
        => "SELECT zeropg_repl.rescue_messages(" + Sql.SqlEdit.Literal("[" + string.Join(",", announcements) + "]") + "::pg_catalog.jsonb, "
            + (inPlace ? "true" : "false") + ")";
}
