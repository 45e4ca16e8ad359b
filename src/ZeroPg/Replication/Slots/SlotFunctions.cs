namespace ZeroPg.Replication.Slots;

/// <summary>
/// The SQL-level slot surface ZeroPg installs in the engine (after <see cref="Capture.CaptureSchema"/>): Postgres's
/// pg_create_logical_replication_slot, pg_drop_replication_slot, pg_replication_slot_advance and the rows of
/// pg_replication_slots, answered from zeropg_repl.slots with Postgres's errors and SQLSTATEs; slot invalidation past
/// max_slot_wal_keep_size and the purge of captured changes (<c>zeropg_repl.maintain()</c>). A client's call is
/// rewritten to the zeropg_repl function of the same name (Sql/SqlEffects), which takes two arguments first: the
/// caller's process id and the walsenders' active slots as jsonb {"slot": pid} (<see cref="SlotActivity"/>), so a slot
/// a walsender streams from is "active for PID n" here too. Entry points run as the caller, to check its REPLICATION
/// attribute (CheckSlotPermissions), and call SECURITY DEFINER internals: slots are ZeroPg's, whatever the role.
/// The decoding functions are in <see cref="SlotDecoding"/>.
/// </summary>
internal static class SlotFunctions
{
    public const string Install = """"
        -- Altered only when a column is missing: ALTER TABLE locks the table, and a prepared transaction that used a slot holds a
        -- conflicting lock (this install runs again at every walsender's start).
        DO $$BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'zeropg_repl.slots'::regclass AND attname = 'invalidation_reason') THEN
                ALTER TABLE zeropg_repl.slots
                    ADD COLUMN IF NOT EXISTS two_phase boolean NOT NULL DEFAULT false,
                    ADD COLUMN IF NOT EXISTS failover boolean NOT NULL DEFAULT false,
                    -- A temporary slot belongs to the session that made it (active for it, dropped when it leaves).
                    ADD COLUMN IF NOT EXISTS owner_pid integer,
                    ADD COLUMN IF NOT EXISTS inactive_since timestamptz,
                    -- 'wal_removed' once the slot fell more than max_slot_wal_keep_size behind (maintain()).
                    ADD COLUMN IF NOT EXISTS invalidation_reason text;
            END IF;
        END$$;

        DO $$BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'zeropg_repl.slots'::regclass AND attname = 'two_phase_at') THEN
                -- Where two-phase decoding began (Capture/TwoPhasePrepares): a transaction prepared before it goes out whole at its commit.
                ALTER TABLE zeropg_repl.slots ADD COLUMN IF NOT EXISTS two_phase_at pg_lsn;
            END IF;
        END$$;

        -- Slots are the cluster's in Postgres: ZeroPg sets zeropg.other_slots, {"slot": "its database"} of the server's other
        -- databases (each runs its own engine), before a unit that uses slots (Slots/ClusterSlots).
        CREATE OR REPLACE FUNCTION zeropg_repl.other_slots() RETURNS jsonb
        LANGUAGE sql STABLE AS $$
            SELECT coalesce(nullif(current_setting('zeropg.other_slots', true), ''), '{}')::jsonb
        $$;

        -- slot.c's ReplicationSlotCreate: a name in use anywhere on the server is refused first (42710: another database's here,
        -- this one's by the callers' ON CONFLICT), then a full server (53400): max_replication_slots counts every database's slots.
        CREATE OR REPLACE FUNCTION zeropg_repl.slot_limit() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        DECLARE others jsonb := zeropg_repl.other_slots();
        BEGIN
            IF others ? NEW.slot_name::text THEN
                RAISE EXCEPTION 'replication slot "%" already exists', NEW.slot_name USING ERRCODE = '42710';
            END IF;
            IF NOT EXISTS (SELECT 1 FROM zeropg_repl.slots s WHERE s.slot_name = NEW.slot_name)
               AND (SELECT count(*) FROM zeropg_repl.slots) + (SELECT count(*) FROM jsonb_object_keys(others))
                   >= current_setting('max_replication_slots')::int THEN
                RAISE EXCEPTION 'all replication slots are in use' USING ERRCODE = '53400',
                    HINT = 'Free one or increase "max_replication_slots".';
            END IF;
            RETURN NEW;
        END $$;
        DO $$BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = 'zeropg_repl.slots'::regclass AND tgname = 'slot_limit') THEN
                CREATE TRIGGER slot_limit BEFORE INSERT ON zeropg_repl.slots FOR EACH ROW EXECUTE FUNCTION zeropg_repl.slot_limit();
            END IF;
        END$$;

        -- CheckSlotPermissions: the caller's current_user at the entry points; the session user inside the SECURITY DEFINER
        -- internals, which any role could otherwise call directly to read captured changes.
        CREATE OR REPLACE FUNCTION zeropg_repl.check_slot_permissions(role name DEFAULT current_user) RETURNS void
        LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role AND (rolsuper OR rolreplication)) THEN
                RAISE EXCEPTION 'permission denied to use replication slots' USING ERRCODE = '42501',
                    DETAIL = 'Only roles with the REPLICATION attribute may use replication slots.',
                    HINT = 'Connect as a superuser, or ALTER ROLE name REPLICATION.';
            END IF;
        END $$;

        -- slot.c's ReplicationSlotValidateName.
        CREATE OR REPLACE FUNCTION zeropg_repl.validate_slot_name(name text) RETURNS void
        LANGUAGE plpgsql IMMUTABLE AS $$
        BEGIN
            IF name IS NULL OR length(name) = 0 THEN
                RAISE EXCEPTION 'replication slot name "%" is too short', coalesce(name, '') USING ERRCODE = '42602';
            ELSIF octet_length(name) > 63 THEN
                RAISE EXCEPTION 'replication slot name "%" is too long', name USING ERRCODE = '42602';
            ELSIF name !~ '^[a-z0-9_]+$' THEN
                RAISE EXCEPTION 'replication slot name "%" contains invalid character', name USING ERRCODE = '42602',
                    HINT = 'Replication slot names may only contain lower case letters, numbers, and the underscore character.';
            END IF;
        END $$;

        -- Invalidates the slots that fell more than max_slot_wal_keep_size behind the WAL insert position (Postgres does it at
        -- a checkpoint; its wal_status then reads 'lost'). Writes only when there is one, so a read-only transaction can call it.
        CREATE OR REPLACE FUNCTION zeropg_repl.invalidate_slots() RETURNS void
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        DECLARE
            keep numeric := pg_size_bytes(current_setting('max_slot_wal_keep_size'));
            cur pg_lsn := pg_current_wal_insert_lsn();
        BEGIN
            IF keep >= 0 AND EXISTS (SELECT 1 FROM zeropg_repl.slots WHERE invalidation_reason IS NULL AND cur - confirmed_flush_lsn > keep) THEN
                UPDATE zeropg_repl.slots SET invalidation_reason = 'wal_removed', inactive_since = coalesce(inactive_since, now())
                WHERE invalidation_reason IS NULL AND cur - confirmed_flush_lsn > keep;
                RAISE LOG 'zeropg: invalidated replication slots more than % bytes behind (max_slot_wal_keep_size)', keep;
            END IF;
        END $$;

        -- Drops the captured changes of the transactions every valid slot has confirmed, all of them when no valid slot is
        -- left. Transactions never interleave in the engine and LSNs rise with seq, so the confirmed ones are a prefix of the
        -- log (save a prepared transaction's rows, kept with its commit marker below): the first change at or past the horizon
        -- belongs to the first transaction still needed (a position confirmed inside a transaction keeps it whole: it is sent
        -- again, as Postgres does). Costs the rows it deletes.
        CREATE OR REPLACE FUNCTION zeropg_repl.purge() RETURNS void
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        DECLARE horizon pg_lsn; first_needed bigint; needed_xid xid8; last_done bigint; prepared_first bigint; prepared_xid xid8;
        BEGIN
            SELECT min(confirmed_flush_lsn) INTO horizon FROM zeropg_repl.slots WHERE invalidation_reason IS NULL;
            IF horizon IS NULL THEN
                IF EXISTS (SELECT 1 FROM zeropg_repl.changes) THEN
                    DELETE FROM zeropg_repl.changes;
                END IF;
                IF EXISTS (SELECT 1 FROM zeropg_repl.prepared_changes) THEN
                    DELETE FROM zeropg_repl.prepared_changes;
                END IF;
                RETURN;
            END IF;
            SELECT seq, xid INTO first_needed, needed_xid FROM zeropg_repl.changes WHERE lsn + 1::numeric >= horizon ORDER BY seq LIMIT 1;
            -- A prepared transaction committed past the horizon (its marker, Capture/PreparedCommits) keeps its rows from before.
            SELECT p.seq, p.xid INTO prepared_first, prepared_xid FROM zeropg_repl.changes p
            WHERE p.xid IN (SELECT k.xid FROM zeropg_repl.changes k WHERE k.op = 'K' AND k.seq >= first_needed) ORDER BY p.seq LIMIT 1;
            IF prepared_first < first_needed THEN
                first_needed := prepared_first;
                needed_xid := prepared_xid;
            END IF;
            IF first_needed IS NULL THEN
                SELECT max(seq) INTO last_done FROM zeropg_repl.changes;
            ELSE
                SELECT seq INTO last_done FROM zeropg_repl.changes WHERE seq < first_needed AND xid <> needed_xid ORDER BY seq DESC LIMIT 1;
            END IF;
            IF last_done IS NOT NULL THEN
                -- A prepare marker (Capture/TwoPhasePrepares) stays while its transaction is prepared: at its COMMIT PREPARED it tells
                -- that the prepare went out, so only Commit Prepared does.
                DELETE FROM zeropg_repl.changes WHERE seq <= last_done
                    AND NOT (op = 'P' AND xid IN (SELECT zeropg_repl.full_xid(p.transaction) FROM pg_prepared_xacts p));
                -- A prepared transaction's copies are needed until every slot confirmed its prepare.
                IF EXISTS (SELECT 1 FROM zeropg_repl.prepared_changes) THEN
                    DELETE FROM zeropg_repl.prepared_changes pc
                    WHERE NOT EXISTS (SELECT 1 FROM zeropg_repl.changes c WHERE c.op = 'P' AND c.xid = pc.xid AND c.seq > last_done);
                END IF;
            END IF;
        END $$;

        CREATE OR REPLACE FUNCTION zeropg_repl.maintain() RETURNS void
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        BEGIN
            PERFORM zeropg_repl.invalidate_slots();
            PERFORM zeropg_repl.purge();
        END $$;

        -- ReplicationSlotAcquire: the slot, unless it is missing, held by another process (a walsender streaming it, or the
        -- session a temporary slot belongs to) or, when must_be_valid, invalidated.
        CREATE OR REPLACE FUNCTION zeropg_repl.acquire_slot(slot name, caller integer, zp_active jsonb, must_be_valid boolean) RETURNS zeropg_repl.slots
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        DECLARE s zeropg_repl.slots; holder integer;
        BEGIN
            IF slot IS NULL THEN
                RAISE EXCEPTION 'slot name must not be null' USING ERRCODE = '22004';
            END IF;
            PERFORM zeropg_repl.invalidate_slots();
            SELECT * INTO s FROM zeropg_repl.slots t WHERE t.slot_name = slot;
            IF NOT FOUND AND zeropg_repl.other_slots() ? slot::text THEN
                -- logical.c's CreateDecodingContext; Postgres drops it from any database, ZeroPg from its own only.
                RAISE EXCEPTION 'replication slot "%" was not created in this database', slot USING ERRCODE = '55000',
                    HINT = format('Connect to database "%s" to use it.', zeropg_repl.other_slots() ->> slot::text);
            ELSIF NOT FOUND THEN
                RAISE EXCEPTION 'replication slot "%" does not exist', slot USING ERRCODE = '42704';
            END IF;
            holder := coalesce((zp_active ->> slot::text)::integer, CASE WHEN s.temporary THEN s.owner_pid END);
            IF holder IS NOT NULL AND holder <> caller THEN
                RAISE EXCEPTION 'replication slot "%" is active for PID %', slot, holder USING ERRCODE = '55006';
            END IF;
            IF must_be_valid AND s.invalidation_reason IS NOT NULL THEN
                RAISE EXCEPTION 'can no longer access replication slot "%"', slot USING ERRCODE = '55000',
                    DETAIL = format('This replication slot has been invalidated due to "%s".', s.invalidation_reason),
                    HINT = 'Drop the slot and create it again; its consumer must copy the tables again (it fell more than max_slot_wal_keep_size behind).';
            END IF;
            RETURN s;
        END $$;

        CREATE OR REPLACE FUNCTION zeropg_repl.create_slot(slot name, plugin name, temp boolean, twophase boolean, fail boolean, caller integer)
        RETURNS TABLE (slot_name name, lsn pg_lsn)
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        BEGIN
            PERFORM zeropg_repl.check_slot_permissions(session_user);
            PERFORM zeropg_repl.validate_slot_name(slot);
            IF plugin IS DISTINCT FROM 'pgoutput' THEN
                RAISE EXCEPTION 'could not access file "%": No such file or directory', plugin USING ERRCODE = '58P01',
                    HINT = 'ZeroPg''s logical slots use the pgoutput plugin.';
            END IF;
            IF twophase THEN
                RAISE EXCEPTION 'two-phase slots are not supported by the SQL slot functions in ZeroPg' USING ERRCODE = '0A000', HINT = 'ZeroPg decodes prepared transactions at PREPARE only for START_REPLICATION: make the slot with CREATE_REPLICATION_SLOT ... TWO_PHASE on a replication=database connection. Without the option a prepared transaction is decoded at its COMMIT PREPARED, as one ordinary transaction.';
            END IF;
            IF temp AND fail THEN
                RAISE EXCEPTION 'cannot enable failover for a temporary replication slot' USING ERRCODE = '0A000';
            END IF;
            -- Postgres refuses a transaction that has written (25001): its snapshot builder needs it. ZeroPg's slots need no
            -- snapshot, and ZeroPg's own install of zeropg_repl writes in a client's open transaction, so it is not refused.
            PERFORM zeropg_repl.sync_publications();
            RETURN QUERY
            INSERT INTO zeropg_repl.slots AS s (slot_name, plugin, temporary, consistent_point, confirmed_flush_lsn, failover, owner_pid, inactive_since)
            VALUES (slot, plugin, temp, pg_current_wal_insert_lsn(), pg_current_wal_insert_lsn(), coalesce(fail, false),
                    CASE WHEN temp THEN caller END, CASE WHEN NOT temp THEN now() END)
            ON CONFLICT ON CONSTRAINT slots_pkey DO NOTHING
            RETURNING s.slot_name, s.consistent_point;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'replication slot "%" already exists', slot USING ERRCODE = '42710';
            END IF;
        END $$;

        -- Entry points: as strict as Postgres's, run as the caller (its REPLICATION attribute is checked), and SQL functions so
        -- an input and an output column may share a name (slot_name) as in Postgres's signatures.
        CREATE OR REPLACE FUNCTION zeropg_repl.pg_create_logical_replication_slot(zp_caller integer, zp_active jsonb,
            slot_name name, plugin name, temporary boolean DEFAULT false, twophase boolean DEFAULT false, failover boolean DEFAULT false,
            OUT slot_name name, OUT lsn pg_lsn)
        LANGUAGE sql STRICT SET search_path = pg_catalog, pg_temp AS $$
            SELECT zeropg_repl.check_slot_permissions();
            SELECT c.slot_name, c.lsn FROM zeropg_repl.create_slot($3, $4, $5, $6, $7, $1) c;
        $$;

        CREATE OR REPLACE FUNCTION zeropg_repl.drop_slot(slot name, caller integer, zp_active jsonb) RETURNS void
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        BEGIN
            PERFORM zeropg_repl.check_slot_permissions(session_user);
            PERFORM zeropg_repl.acquire_slot(slot, caller, zp_active, false);
            DELETE FROM zeropg_repl.slots WHERE slot_name = slot;
            PERFORM zeropg_repl.purge();
        END $$;

        CREATE OR REPLACE FUNCTION zeropg_repl.pg_drop_replication_slot(zp_caller integer, zp_active jsonb, slot_name name) RETURNS void
        LANGUAGE sql STRICT SET search_path = pg_catalog, pg_temp AS $$
            SELECT zeropg_repl.check_slot_permissions();
            SELECT zeropg_repl.drop_slot($3, $1, $2);
        $$;

        -- pg_replication_slot_advance: the target is clamped to the WAL written so far; a logical slot never moves back.
        CREATE OR REPLACE FUNCTION zeropg_repl.advance_slot(slot name, upto pg_lsn, caller integer, zp_active jsonb)
        RETURNS TABLE (slot_name name, end_lsn pg_lsn)
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        DECLARE s zeropg_repl.slots; target pg_lsn;
        BEGIN
            PERFORM zeropg_repl.check_slot_permissions(session_user);
            IF upto = '0/0'::pg_lsn THEN
                RAISE EXCEPTION 'invalid target WAL LSN' USING ERRCODE = '22023';
            END IF;
            target := least(upto, pg_current_wal_insert_lsn());
            s := zeropg_repl.acquire_slot(slot, caller, zp_active, true);
            IF target < s.confirmed_flush_lsn THEN
                RAISE EXCEPTION 'cannot advance replication slot to %, minimum is %', target, s.confirmed_flush_lsn USING ERRCODE = '55000';
            END IF;
            UPDATE zeropg_repl.slots t SET confirmed_flush_lsn = target WHERE t.slot_name = slot AND t.confirmed_flush_lsn < target;
            RETURN QUERY SELECT slot, greatest(target, s.confirmed_flush_lsn);
        END $$;

        CREATE OR REPLACE FUNCTION zeropg_repl.pg_replication_slot_advance(zp_caller integer, zp_active jsonb, slot_name name, upto_lsn pg_lsn,
            OUT slot_name name, OUT end_lsn pg_lsn)
        LANGUAGE sql STRICT SET search_path = pg_catalog, pg_temp AS $$
            SELECT zeropg_repl.check_slot_permissions();
            SELECT a.slot_name, a.end_lsn FROM zeropg_repl.advance_slot($3, $4, $1, $2) a;
        $$;

        -- The rows of pg_replication_slots (Postgres 18's columns), from zeropg_repl.slots and the active walsenders.
        -- restart_lsn is the confirmed position (a transaction is kept whole from it on); wal_status: 'reserved' within
        -- max_wal_size, 'extended' beyond, 'lost' once invalidated or past max_slot_wal_keep_size (invalidated at its next use).
        CREATE OR REPLACE FUNCTION zeropg_repl.replication_slots(zp_active jsonb)
        RETURNS TABLE (slot_name name, plugin name, slot_type text, datoid oid, database name, temporary boolean, active boolean,
            active_pid integer, xmin xid, catalog_xmin xid, restart_lsn pg_lsn, confirmed_flush_lsn pg_lsn, wal_status text,
            safe_wal_size bigint, two_phase boolean, two_phase_at pg_lsn, inactive_since timestamptz, conflicting boolean,
            invalidation_reason text, failover boolean, synced boolean)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
            SELECT s.slot_name, s.plugin, 'logical', d.oid, d.datname, s.temporary, h.pid IS NOT NULL, h.pid, NULL::xid, NULL::xid,
                   CASE WHEN NOT x.lost THEN s.confirmed_flush_lsn END, s.confirmed_flush_lsn,
                   CASE WHEN x.lost THEN 'lost' WHEN x.behind <= x.max_wal THEN 'reserved' ELSE 'extended' END,
                   CASE WHEN x.keep >= 0 AND NOT x.lost THEN (x.keep - x.behind)::bigint END,
                   s.two_phase, s.two_phase_at, CASE WHEN h.pid IS NULL THEN coalesce(s.inactive_since, s.created_at) END, false,
                   coalesce(s.invalidation_reason, CASE WHEN x.lost THEN 'wal_removed' END), s.failover, false
            FROM zeropg_repl.slots s
            CROSS JOIN LATERAL (SELECT coalesce((zp_active ->> s.slot_name::text)::integer, CASE WHEN s.temporary THEN s.owner_pid END) AS pid) h
            CROSS JOIN LATERAL (SELECT pg_current_wal_insert_lsn() - s.confirmed_flush_lsn AS behind,
                                       pg_size_bytes(current_setting('max_slot_wal_keep_size')) AS keep,
                                       pg_size_bytes(current_setting('max_wal_size')) AS max_wal) y
            CROSS JOIN LATERAL (SELECT y.behind, y.keep, y.max_wal,
                                       s.invalidation_reason IS NOT NULL OR (y.keep >= 0 AND y.behind > y.keep) AS lost) x
            LEFT JOIN pg_database d ON d.datname = current_database()
            ORDER BY s.slot_name
        $$;

        -- What /metrics shows for each slot: its lag in bytes (WAL since its confirmed position) and in seconds (the age of the
        -- oldest captured change it has not confirmed; 0 when it has confirmed them all), as one JSON array.
        CREATE OR REPLACE FUNCTION zeropg_repl.slot_metrics() RETURNS jsonb
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
            SELECT coalesce(jsonb_agg(jsonb_build_object('slot', s.slot_name, 'lost', s.invalidation_reason IS NOT NULL,
                'bytes', greatest(pg_current_wal_insert_lsn() - s.confirmed_flush_lsn, 0),
                'seconds', coalesce(extract(epoch FROM clock_timestamp() - (SELECT c.at FROM zeropg_repl.changes c
                    WHERE c.lsn + 1::numeric >= s.confirmed_flush_lsn ORDER BY c.seq LIMIT 1)), 0)) ORDER BY s.slot_name), '[]')
            FROM zeropg_repl.slots s
        $$;
        """";
}
