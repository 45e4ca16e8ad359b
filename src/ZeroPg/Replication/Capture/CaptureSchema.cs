namespace ZeroPg.Replication.Capture;

/// <summary>The SQL ZeroPg installs in the engine to record changes to published tables in the same
/// transaction as the change (a rollback leaves nothing), tagged with the real top-level xid.
/// Rows are stored as their record text (record_out: every column through its type's output function,
/// exactly the text pgoutput sends) and decoded by <see cref="RecordText"/>. Nothing is installed on a
/// table until it is published: tables that are not published carry no trigger and pay nothing.</summary>
internal static class CaptureSchema
{
    public const string Schema = "zeropg_repl";

    public const string Install = """
        CREATE SCHEMA IF NOT EXISTS zeropg_repl;
        REVOKE ALL ON SCHEMA zeropg_repl FROM PUBLIC;
        CREATE TABLE IF NOT EXISTS zeropg_repl.changes (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
            relid oid,
            op "char" NOT NULL,          -- I U D T M
            old_row text,                -- record_out of OLD (UPDATE/DELETE, identity not NOTHING)
            new_row text,                -- record_out of NEW (INSERT/UPDATE)
            prefix text,                 -- M: pg_logical_emit_message prefix
            content bytea                -- M: content
        );

        CREATE OR REPLACE FUNCTION zeropg_repl.capture_row() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                INSERT INTO zeropg_repl.changes (relid, op, new_row) VALUES (TG_RELID, 'I', NEW::text);
            ELSIF TG_OP = 'UPDATE' THEN
                INSERT INTO zeropg_repl.changes (relid, op, old_row, new_row) VALUES (TG_RELID, 'U', OLD::text, NEW::text);
            ELSE
                INSERT INTO zeropg_repl.changes (relid, op, old_row) VALUES (TG_RELID, 'D', OLD::text);
            END IF;
            RETURN NULL;
        END $$;

        CREATE OR REPLACE FUNCTION zeropg_repl.capture_truncate() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO zeropg_repl.changes (relid, op) VALUES (TG_RELID, 'T');
            RETURN NULL;
        END $$;

        -- Transactional logical messages; the non-transactional form cannot escape the caller's
        -- transaction inside the engine and is recorded by the session layer instead (phase 2).
        CREATE OR REPLACE FUNCTION zeropg_repl.emit_message(prefix text, content bytea) RETURNS void
        LANGUAGE sql AS $$ INSERT INTO zeropg_repl.changes (op, prefix, content) VALUES ('M', prefix, content) $$;

        CREATE OR REPLACE FUNCTION zeropg_repl.attach(rel regclass) RETURNS void
        LANGUAGE plpgsql AS $$
        BEGIN
            EXECUTE format('CREATE OR REPLACE TRIGGER zeropg_repl_row AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION zeropg_repl.capture_row()', rel);
            EXECUTE format('CREATE OR REPLACE TRIGGER zeropg_repl_truncate AFTER TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION zeropg_repl.capture_truncate()', rel);
        END $$;

        CREATE OR REPLACE FUNCTION zeropg_repl.detach(rel regclass) RETURNS void
        LANGUAGE plpgsql AS $$
        BEGIN
            EXECUTE format('DROP TRIGGER IF EXISTS zeropg_repl_row ON %s', rel);
            EXECUTE format('DROP TRIGGER IF EXISTS zeropg_repl_truncate ON %s', rel);
        END $$;
        """;
}
