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
            -- The WAL insert position before the row is written: strictly increasing (each change row is a WAL
            -- record), persistent with the data directory, and never above pg_current_wal_lsn() once committed.
            lsn pg_lsn NOT NULL DEFAULT pg_current_wal_insert_lsn(),
            at timestamptz NOT NULL DEFAULT clock_timestamp(),
            relid oid,
            op "char" NOT NULL,          -- I U D T M
            old_row text,                -- record_out of OLD (UPDATE/DELETE, identity not NOTHING)
            new_row text,                -- record_out of NEW (INSERT/UPDATE)
            prefix text,                 -- M: pg_logical_emit_message prefix
            content bytea                -- M: content
        );

        -- SECURITY DEFINER: any role writing a published table records its change; only ZeroPg reads the log.
        -- Every 1024th change also runs zeropg_repl.maintain() (Slots/SlotFunctions): slots too far behind are invalidated and
        -- what every slot confirmed is purged, so the log stays bounded even when no consumer is connected.
        CREATE OR REPLACE FUNCTION zeropg_repl.capture_row() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        DECLARE recorded bigint;
        BEGIN
            IF TG_OP = 'INSERT' THEN
                INSERT INTO zeropg_repl.changes (relid, op, new_row) VALUES (TG_RELID, 'I', NEW::text) RETURNING seq INTO recorded;
            ELSIF TG_OP = 'UPDATE' THEN
                INSERT INTO zeropg_repl.changes (relid, op, old_row, new_row) VALUES (TG_RELID, 'U', OLD::text, NEW::text) RETURNING seq INTO recorded;
            ELSE
                INSERT INTO zeropg_repl.changes (relid, op, old_row) VALUES (TG_RELID, 'D', OLD::text) RETURNING seq INTO recorded;
            END IF;
            IF recorded % 1024 = 0 THEN
                PERFORM zeropg_repl.maintain();
            END IF;
            RETURN NULL;
        END $$;

        CREATE OR REPLACE FUNCTION zeropg_repl.capture_truncate() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        BEGIN
            -- content: TRUNCATE's options byte (CASCADE, RESTART IDENTITY), read from the client's query (SlotDecoding.truncate_options).
            INSERT INTO zeropg_repl.changes (relid, op, content) VALUES (TG_RELID, 'T', zeropg_repl.truncate_options(current_query()));
            RETURN NULL;
        END $$;

        -- A transactional logical message (phase 1's form; client calls are rewritten to zeropg_repl.pg_logical_emit_message below).
        CREATE OR REPLACE FUNCTION zeropg_repl.emit_message(prefix text, content bytea) RETURNS void
        LANGUAGE sql AS $$ INSERT INTO zeropg_repl.changes (op, prefix, content) VALUES ('M', prefix, content) $$;

        -- pg_logical_emit_message, as ZeroPg rewrites a client's calls (Sql/SqlEffects): recorded in the caller's transaction. A
        -- non-transactional message ('m') is also announced at once, in a NOTICE only ZeroPg sees (its client_min_messages set for
        -- the call so that it is sent): ZeroPg records it again if a rollback undoes it (Capture/NonTransactionalMessages).
        -- Returns the message's LSN, as Postgres does. Callable by every role; only the record is written.
        GRANT USAGE ON SCHEMA zeropg_repl TO PUBLIC;
        CREATE OR REPLACE FUNCTION zeropg_repl.pg_logical_emit_message(transactional boolean, prefix text, message bytea, flush boolean DEFAULT false)
        RETURNS pg_lsn LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET client_min_messages = notice AS $$
        DECLARE r zeropg_repl.changes;
        BEGIN
            INSERT INTO zeropg_repl.changes (op, prefix, content) VALUES (CASE WHEN $1 THEN 'M' ELSE 'm' END, $2, $3) RETURNING * INTO r;
            IF NOT $1 THEN
                RAISE NOTICE USING ERRCODE = 'ZRM01', MESSAGE = json_build_object('seq', r.seq, 'xid', r.xid, 'lsn', r.lsn, 'at', r.at,
                    'prefix', r.prefix, 'content', encode(r.content, 'hex'))::text;
            END IF;
            RETURN r.lsn;
        END $$;
        CREATE OR REPLACE FUNCTION zeropg_repl.pg_logical_emit_message(transactional boolean, prefix text, message text, flush boolean DEFAULT false)
        RETURNS pg_lsn LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
            SELECT zeropg_repl.pg_logical_emit_message(transactional, prefix, convert_to(message, 'UTF8'), flush)
        $$;

        -- A captured table's shape (what a Relation message says) from its attachment on, one row per ALTER TABLE: a change
        -- is decoded with the shape at its LSN, so rows recorded before an ALTER keep their columns and a new Relation
        -- message goes out between them and the rows after it, as pgoutput does.
        CREATE TABLE IF NOT EXISTS zeropg_repl.shapes (
            relid oid NOT NULL,
            lsn pg_lsn NOT NULL DEFAULT pg_current_wal_insert_lsn(),
            shape jsonb NOT NULL
        );

        CREATE OR REPLACE FUNCTION zeropg_repl.describe(rel oid) RETURNS jsonb
        LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
            SELECT jsonb_build_object('nsp', n.nspname, 'name', c.relname, 'ident', c.relreplident::text, 'cols', (
                SELECT jsonb_agg(jsonb_build_object('n', a.attname, 't', a.atttypid, 'm', a.atttypmod, 'g', a.attgenerated <> '',
                    'k', CASE c.relreplident WHEN 'f' THEN true WHEN 'n' THEN false ELSE coalesce(
                        (SELECT a.attnum = ANY (i.indkey::int2[]) FROM pg_index i WHERE i.indrelid = c.oid
                         AND CASE c.relreplident WHEN 'i' THEN i.indisreplident ELSE i.indisprimary END LIMIT 1), false) END,
                    'tns', tn.nspname, 'tn', t.typname) ORDER BY a.attnum)
                FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid JOIN pg_namespace tn ON tn.oid = t.typnamespace
                WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped))
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = rel
        $$;

        -- A partitioned table gets only the TRUNCATE trigger (its rows live in its partitions, each attached on its own): a row
        -- trigger on it would be cloned into the partitions under the same name, and those clones cannot be replaced.
        CREATE OR REPLACE FUNCTION zeropg_repl.attach(rel regclass) RETURNS void
        LANGUAGE plpgsql AS $$
        BEGIN
            IF (SELECT relkind FROM pg_class WHERE oid = rel) <> 'p' THEN
                EXECUTE format('CREATE OR REPLACE TRIGGER zeropg_repl_row AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION zeropg_repl.capture_row()', rel);
            END IF;
            EXECUTE format('CREATE OR REPLACE TRIGGER zeropg_repl_truncate AFTER TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION zeropg_repl.capture_truncate()', rel);
            INSERT INTO zeropg_repl.shapes (relid, shape) VALUES (rel, zeropg_repl.describe(rel));
        END $$;

        CREATE OR REPLACE FUNCTION zeropg_repl.detach(rel regclass) RETURNS void
        LANGUAGE plpgsql AS $$
        BEGIN
            EXECUTE format('DROP TRIGGER IF EXISTS zeropg_repl_row ON %s', rel);
            EXECUTE format('DROP TRIGGER IF EXISTS zeropg_repl_truncate ON %s', rel);
        END $$;

        -- Logical replication slots (persisted with the data directory, so they survive restarts).
        CREATE TABLE IF NOT EXISTS zeropg_repl.slots (
            slot_name name PRIMARY KEY,
            plugin name NOT NULL,
            temporary boolean NOT NULL,
            consistent_point pg_lsn NOT NULL,
            confirmed_flush_lsn pg_lsn NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        );

        -- pg_publication_tables (PGlite runs CREATE PUBLICATION natively) is the source of truth: every table
        -- it lists gets the capture triggers, and so does every partition of a partitioned table it lists (publish_via_partition_root
        -- lists the root alone). Called by the event trigger below and at START_REPLICATION.
        CREATE OR REPLACE FUNCTION zeropg_repl.sync_publications() RETURNS void
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        DECLARE rel regclass;
        BEGIN
            FOR rel IN
                SELECT DISTINCT m.relid::regclass FROM pg_publication_tables t
                JOIN pg_namespace n ON n.nspname = t.schemaname
                JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = t.tablename
                CROSS JOIN LATERAL (SELECT c.oid AS relid UNION SELECT p.relid FROM pg_partition_tree(c.oid) p WHERE p.isleaf) m
                JOIN pg_class mc ON mc.oid = m.relid
                WHERE NOT EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = m.relid AND g.tgname = 'zeropg_repl_truncate')
                  AND mc.relkind IN ('r', 'p')
                  -- FOR ALL TABLES lists ZeroPg's own tables too: capturing the change log would recurse forever.
                  AND n.nspname <> 'zeropg_repl' AND c.relname NOT LIKE 'zeropg\_internal%'
            LOOP
                PERFORM zeropg_repl.attach(rel);
            END LOOP;
        END $$;

        CREATE OR REPLACE FUNCTION zeropg_repl.on_ddl() RETURNS event_trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        DECLARE rel oid;
        BEGIN
            PERFORM zeropg_repl.sync_publications();
            IF TG_TAG = 'ALTER TABLE' THEN
                -- An ALTER of a partitioned table changes its partitions too.
                FOR rel IN SELECT DISTINCT m.relid FROM pg_event_trigger_ddl_commands() d
                    CROSS JOIN LATERAL (SELECT d.objid AS relid UNION SELECT p.relid FROM pg_partition_tree(d.objid) p) m
                    WHERE d.classid = 'pg_class'::regclass
                      AND EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = m.relid AND g.tgname = 'zeropg_repl_truncate')
                LOOP
                    INSERT INTO zeropg_repl.shapes (relid, shape) VALUES (rel, zeropg_repl.describe(rel));
                END LOOP;
            END IF;
        END $$;

        DROP EVENT TRIGGER IF EXISTS zeropg_repl_ddl;
        CREATE EVENT TRIGGER zeropg_repl_ddl ON ddl_command_end
            WHEN TAG IN ('CREATE PUBLICATION', 'ALTER PUBLICATION', 'CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO', 'ALTER TABLE')
            EXECUTE FUNCTION zeropg_repl.on_ddl();
        """ + PreparedCommits.Install + RowFilters.Install + Walsender.BinaryValues.Install + Slots.SlotFunctions.Install + TwoPhasePrepares.Install + Slots.SlotDecoding.Install
        + NonTransactionalMessages.Install;
}
