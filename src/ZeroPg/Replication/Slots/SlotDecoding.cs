namespace ZeroPg.Replication.Slots;

/// <summary>
/// pg_logical_slot_get_changes / peek_changes and their _binary_ forms, in the engine: a client's call is rewritten to
/// zeropg_repl's function of the same name (Sql/SqlEffects), so they work wherever SQL does (parameters, prepared
/// statements, inside a transaction). They read zeropg_repl.changes from the slot's confirmed position and write the
/// pgoutput messages the stream sends (<see cref="Walsender.TransactionEncoder"/>, the same layouts as PgOutput/): lazy
/// Begin, Type and Relation before a relation's first change in the call (again when its shape changed), the changes
/// with the old tuple their replica identity asks for, Truncate with its options, logical messages ('messages'), Commit; with
/// 'streaming' (protocol 2+), a transaction whose changes reach the caller's logical_decoding_work_mem in Stream Start/Stop
/// blocks and Stream Commit (<see cref="Walsender.StreamedTransaction"/>, the same sizes and blocks).
/// Each row carries the LSN pgoutput writes at (Begin: the first change; a change and the messages before it: the
/// change; Commit: the end) and the transaction's xid. pgoutput's output is binary: the text functions raise Postgres's
/// error once the options parse. get_ also moves confirmed_flush_lsn past what it returned (in the caller's transaction:
/// a rollback undoes it, where Postgres's would stay).
/// </summary>
internal static class SlotDecoding
{
    public const string Install = """"
        -- record_out text (1,"a b",,"x""y") to its fields: unquoted empty is NULL, quotes and backslashes are doubled inside quotes.
        CREATE OR REPLACE FUNCTION zeropg_repl.record_fields(rec text) RETURNS text[]
        LANGUAGE sql IMMUTABLE STRICT AS $$
            SELECT coalesce(array_agg(CASE WHEN f.m[1] = '' THEN NULL
                                           WHEN left(f.m[1], 1) = '"' THEN replace(replace(substr(f.m[1], 2, length(f.m[1]) - 2), '""', '"'), '\\', '\')
                                           ELSE f.m[1] END ORDER BY f.n), '{}')
            FROM regexp_matches(substr(rec, 2, length(rec) - 2) || ',', '("(?:[^"\\]|""|\\\\)*"|[^,]*),', 'g') WITH ORDINALITY AS f(m, n)
        $$;

        CREATE OR REPLACE FUNCTION zeropg_repl.pgo_string(s text) RETURNS bytea
        LANGUAGE sql IMMUTABLE AS $$ SELECT convert_to(coalesce(s, ''), 'UTF8') || '\x00'::bytea $$;

        CREATE OR REPLACE FUNCTION zeropg_repl.pgo_lsn(l pg_lsn) RETURNS bytea
        LANGUAGE sql IMMUTABLE AS $$ SELECT int8send((l - '0/0'::pg_lsn)::bigint) $$;

        CREATE OR REPLACE FUNCTION zeropg_repl.pgo_oid(o oid) RETURNS bytea
        LANGUAGE sql IMMUTABLE AS $$ SELECT int4send(CASE WHEN o::bigint > 2147483647 THEN o::bigint - 4294967296 ELSE o::bigint END::integer) $$;

        -- The shape (zeropg_repl.describe) a change at lsn was captured under: the last recorded at or before it, else the oldest,
        -- else the table's current one; NULL when the table is gone.
        CREATE OR REPLACE FUNCTION zeropg_repl.shape_at(rel oid, at pg_lsn) RETURNS jsonb
        LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
            SELECT coalesce(
                (SELECT shape FROM zeropg_repl.shapes WHERE relid = rel AND lsn <= at ORDER BY lsn DESC LIMIT 1),
                (SELECT shape FROM zeropg_repl.shapes WHERE relid = rel ORDER BY lsn LIMIT 1),
                (SELECT zeropg_repl.describe(rel) WHERE EXISTS (SELECT 1 FROM pg_class WHERE oid = rel)))
        $$;

        -- 'Y' for each column of a type that is not built in (pgoutput sends one per column), then 'R'.
        CREATE OR REPLACE FUNCTION zeropg_repl.pgo_relation(rel oid, shape jsonb) RETURNS bytea[]
        LANGUAGE plpgsql IMMUTABLE AS $$
        DECLARE col jsonb; msgs bytea[] := '{}'; body bytea := ''; n integer := 0;
        BEGIN
            FOR col IN SELECT value FROM jsonb_array_elements(shape -> 'cols') LOOP
                CONTINUE WHEN (col ->> 'g')::boolean;
                n := n + 1;
                IF (col ->> 't')::bigint >= 10000 THEN
                    msgs := msgs || ('\x59'::bytea || zeropg_repl.pgo_oid((col ->> 't')::oid) || zeropg_repl.pgo_string(col ->> 'tns') || zeropg_repl.pgo_string(col ->> 'tn'));
                END IF;
                body := body || CASE WHEN (col ->> 'k')::boolean THEN '\x01'::bytea ELSE '\x00'::bytea END || zeropg_repl.pgo_string(col ->> 'n')
                    || zeropg_repl.pgo_oid((col ->> 't')::oid) || int4send((col ->> 'm')::integer);
            END LOOP;
            RETURN msgs || ('\x52'::bytea || zeropg_repl.pgo_oid(rel)
                || zeropg_repl.pgo_string(CASE WHEN shape ->> 'nsp' = 'pg_catalog' THEN '' ELSE shape ->> 'nsp' END)
                || zeropg_repl.pgo_string(shape ->> 'name') || convert_to(shape ->> 'ident', 'UTF8') || int2send(n::smallint) || body);
        END $$;

        -- The shape as the publications send it: a column left out of pg_publication_tables.attnames (united over them: their column
        -- lists, and generated columns unless publish_generated_columns = stored or a list names them) is marked 'g' and skipped, in
        -- the Relation message and in every tuple. names NULL: the table's every column but the generated ones.
        CREATE OR REPLACE FUNCTION zeropg_repl.restrict_shape(shape jsonb, names jsonb) RETURNS jsonb
        LANGUAGE sql IMMUTABLE AS $$
            SELECT CASE WHEN shape IS NULL OR names IS NULL OR jsonb_typeof(shape -> 'cols') IS DISTINCT FROM 'array' THEN shape
                ELSE jsonb_set(shape, '{cols}', coalesce((SELECT jsonb_agg(CASE WHEN names ? (e.c ->> 'n') THEN e.c || '{"g": false}'::jsonb ELSE e.c || '{"g": true}'::jsonb END ORDER BY e.o)
                                                          FROM jsonb_array_elements(shape -> 'cols') WITH ORDINALITY AS e(c, o)), '[]'::jsonb)) END
        $$;

        -- A record captured from a partition, in the column order of the root it is published as (publish_via_partition_root):
        -- its fields, still as record_out wrote them, picked by column name; a column the partition lacks is NULL.
        CREATE OR REPLACE FUNCTION zeropg_repl.reorder_record(rec text, captured jsonb, published jsonb) RETURNS text
        LANGUAGE sql IMMUTABLE AS $$
            SELECT CASE WHEN rec IS NULL THEN NULL ELSE '(' || (
                SELECT string_agg(coalesce(f.m[1], ''), ',' ORDER BY pc.o)
                FROM jsonb_array_elements(published -> 'cols') WITH ORDINALITY AS pc(c, o)
                LEFT JOIN jsonb_array_elements(captured -> 'cols') WITH ORDINALITY AS cc(c, o) ON cc.c ->> 'n' = pc.c ->> 'n'
                LEFT JOIN regexp_matches(substr(rec, 2, length(rec) - 2) || ',', '("(?:[^"\\]|""|\\\\)*"|[^,]*),', 'g') WITH ORDINALITY AS f(m, n) ON f.n = cc.o
            ) || ')' END
        $$;

        -- TupleData of a captured row: 't' + output text, or with binary 'b' + the type's send function; 'n' for NULL and,
        -- when key_only, for every column not in the replica identity.
        CREATE OR REPLACE FUNCTION zeropg_repl.pgo_tuple(shape jsonb, rec text, use_binary boolean, key_only boolean) RETURNS bytea
        LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
        DECLARE fields text[] := zeropg_repl.record_fields(rec); col jsonb; k integer := 0; n integer := 0; body bytea := '';
            v text; b bytea; send regproc;
        BEGIN
            FOR col IN SELECT value FROM jsonb_array_elements(shape -> 'cols') LOOP
                k := k + 1;
                CONTINUE WHEN (col ->> 'g')::boolean;
                n := n + 1;
                v := fields[k];
                IF v IS NULL OR (key_only AND NOT (col ->> 'k')::boolean) THEN
                    body := body || '\x6e'::bytea;
                    CONTINUE;
                END IF;
                send := NULL;
                IF use_binary THEN
                    SELECT t.typsend INTO send FROM pg_type t WHERE t.oid = (col ->> 't')::oid;
                END IF;
                IF send IS NOT NULL AND send::oid <> 0 THEN
                    EXECUTE format('SELECT %s($1::%s)', send, format_type((col ->> 't')::oid, (col ->> 'm')::integer)) INTO b USING v;
                    body := body || '\x62'::bytea || int4send(length(b)) || b;
                ELSE
                    b := convert_to(v, 'UTF8');
                    body := body || '\x74'::bytea || int4send(length(b)) || b;
                END IF;
            END LOOP;
            RETURN int2send(n::smallint) || body;
        END $$;

        -- TRUNCATE's options (1 CASCADE, 2 RESTART IDENTITY), which a trigger cannot see: read from the client's query text when
        -- it holds exactly one TRUNCATE (else 0).
        CREATE OR REPLACE FUNCTION zeropg_repl.truncate_options(query text) RETURNS bytea
        LANGUAGE sql IMMUTABLE AS $$
            SELECT CASE WHEN (SELECT count(*) FROM regexp_matches(coalesce(query, ''), '\mtruncate\M', 'gi')) = 1
                THEN set_byte('\x00'::bytea, 0, CASE WHEN query ~* '\mcascade\M' THEN 1 ELSE 0 END
                                              + CASE WHEN query ~* '\mrestart\s+identity\M' THEN 2 ELSE 0 END) END
        $$;

        -- A change's decoded size, counted toward logical_decoding_work_mem as Walsender/StreamedTransaction counts it.
        CREATE OR REPLACE FUNCTION zeropg_repl.change_size(new_row text, old_row text, prefix text, content bytea) RETURNS bigint
        LANGUAGE sql IMMUTABLE AS $$
            SELECT 100 + coalesce(octet_length(new_row), 0) + coalesce(octet_length(old_row), 0) + coalesce(octet_length(prefix), 0)
                + coalesce(octet_length(content), 0)
        $$;

        CREATE OR REPLACE FUNCTION zeropg_repl.decode(slot name, upto_lsn pg_lsn, upto_nchanges integer, options text[], caller integer,
            zp_active jsonb, use_binary_function boolean, confirm boolean, function_name text)
        RETURNS TABLE (lsn pg_lsn, xid xid, data bytea)
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        DECLARE
            s zeropg_repl.slots; k integer; key text; val text; proto integer; pubs text[]; opt_binary boolean := false;
            opt_messages boolean := false; seen text[] := '{}'; published jsonb; pubcols jsonb; sent jsonb := '{}';
            wal_end pg_lsn := pg_current_wal_insert_lsn(); own xid8 := pg_current_xact_id_if_assigned();
            tx record; c record; tr record; shape jsonb; ops text; began boolean; commit_lsn pg_lsn; end_lsn pg_lsn; returned bigint := 0;
            consumed pg_lsn; txid xid; commit_time bigint; msg bytea; frames bytea[]; rels oid[]; r oid; this_op text; prev_op text;
            continues_truncate boolean; key_changed boolean; old_t bytea; new_t bytea; hit_limit boolean := false;
            filters jsonb := '{}'; filter text; roots jsonb; target oid; partition jsonb; old_row text; new_row text;
            -- Streaming (Walsender/StreamedTransaction): a transaction whose changes reach logical_decoding_work_mem goes out in blocks.
            opt_streaming text; work_mem bigint := (SELECT setting::bigint * 1024 FROM pg_settings WHERE name = 'logical_decoding_work_mem');
            streamed boolean; in_block boolean; blocks integer; running bigint; cut boolean; xid_bytes bytea; sent_before jsonb; last_lsn pg_lsn;
        BEGIN
            PERFORM zeropg_repl.check_slot_permissions(session_user);
            -- logicalfuncs.c: the slot name, the options array, the slot, the plugin's options, then the output type.
            IF slot IS NULL THEN
                RAISE EXCEPTION 'slot name must not be null' USING ERRCODE = '22004';
            ELSIF options IS NULL THEN
                RAISE EXCEPTION 'options array must not be null' USING ERRCODE = '22004';
            ELSIF array_ndims(options) > 1 THEN
                RAISE EXCEPTION 'array must be one-dimensional' USING ERRCODE = '22023';
            ELSIF array_position(options, NULL) IS NOT NULL THEN
                RAISE EXCEPTION 'array must not contain nulls' USING ERRCODE = '22023';
            ELSIF coalesce(array_length(options, 1), 0) % 2 <> 0 THEN
                RAISE EXCEPTION 'array must have even number of elements' USING ERRCODE = '22023';
            END IF;
            s := zeropg_repl.acquire_slot(slot, caller, zp_active, true);
            IF s.two_phase THEN
                RAISE EXCEPTION 'replication slot "%" decodes prepared transactions at PREPARE, which ZeroPg serves only to START_REPLICATION', slot
                    USING ERRCODE = '0A000', HINT = 'Read a two-phase slot on a replication=database connection (START_REPLICATION), or decode through a slot made without two_phase.';
            END IF;
            FOR k IN 1 .. coalesce(array_length(options, 1), 0) / 2 LOOP
                key := options[2 * k - 1];
                val := options[2 * k];
                IF key = ANY (seen) THEN
                    RAISE EXCEPTION 'conflicting or redundant options' USING ERRCODE = '42601';
                END IF;
                seen := seen || key;
                CASE key
                    WHEN 'proto_version' THEN
                        IF val !~ '^[0-9]+$' THEN
                            RAISE EXCEPTION 'invalid proto_version' USING ERRCODE = '22023';
                        ELSIF val::numeric > 4 THEN
                            RAISE EXCEPTION 'client sent proto_version=% but server only supports protocol 4 or lower', val USING ERRCODE = '0A000';
                        ELSIF val::integer < 1 THEN
                            RAISE EXCEPTION 'client sent proto_version=% but server only supports protocol 1 or higher', val USING ERRCODE = '0A000';
                        END IF;
                        proto := val::integer;
                    WHEN 'publication_names' THEN
                        IF val !~ '^\s*("([^"]|"")+"|[^",\s]+)\s*(,\s*("([^"]|"")+"|[^",\s]+)\s*)*$' THEN
                            RAISE EXCEPTION 'invalid publication_names syntax' USING ERRCODE = '42602';
                        END IF;
                        SELECT array_agg(CASE WHEN left(p.m[1], 1) = '"' THEN replace(substr(p.m[1], 2, length(p.m[1]) - 2), '""', '"') ELSE lower(p.m[1]) END)
                        INTO pubs FROM regexp_matches(val, '("(?:[^"]|"")+"|[^",\s]+)', 'g') AS p(m);
                    WHEN 'binary', 'messages', 'two_phase' THEN
                        IF lower(val) NOT IN ('true', 'on', 'yes', '1', 't', 'false', 'off', 'no', '0', 'f') THEN
                            RAISE EXCEPTION '% requires a Boolean value', key USING ERRCODE = '22023';
                        END IF;
                        IF key = 'binary' THEN opt_binary := lower(val) IN ('true', 'on', 'yes', '1', 't'); END IF;
                        IF key = 'messages' THEN opt_messages := lower(val) IN ('true', 'on', 'yes', '1', 't'); END IF;
                    WHEN 'streaming' THEN
                        IF lower(val) NOT IN ('true', 'on', 'yes', '1', 't', 'false', 'off', 'no', '0', 'f', 'parallel') THEN
                            RAISE EXCEPTION 'invalid value for parameter "streaming": "%"', val USING ERRCODE = '22023';
                        END IF;
                        opt_streaming := CASE WHEN lower(val) = 'parallel' THEN 'parallel' WHEN lower(val) IN ('true', 'on', 'yes', '1', 't') THEN 'on' END;
                    WHEN 'origin' THEN
                        IF lower(val) NOT IN ('any', 'none') THEN
                            RAISE EXCEPTION 'unrecognized origin value: "%"', val USING ERRCODE = '22023';
                        END IF;
                    ELSE
                        RAISE EXCEPTION 'unrecognized pgoutput option: %', key USING ERRCODE = '22023';
                END CASE;
            END LOOP;
            IF proto IS NULL THEN
                RAISE EXCEPTION 'option "proto_version" missing' USING ERRCODE = '22023';
            ELSIF pubs IS NULL THEN
                RAISE EXCEPTION 'option "publication_names" missing' USING ERRCODE = '22023';
            ELSIF opt_streaming = 'on' AND proto < 2 THEN
                RAISE EXCEPTION 'requested proto_version=% does not support streaming, need 2 or higher', proto USING ERRCODE = '0A000';
            ELSIF opt_streaming = 'parallel' AND proto < 4 THEN
                RAISE EXCEPTION 'requested proto_version=% does not support parallel streaming, need 4 or higher', proto USING ERRCODE = '0A000';
            ELSIF NOT use_binary_function THEN
                RAISE EXCEPTION 'logical decoding output plugin "%" produces binary output, but function "%" expects textual data', s.plugin, function_name
                    USING ERRCODE = '0A000', HINT = 'Call the _binary_ form of the function (pgoutput''s messages are bytes).';
            END IF;
            SELECT u.name INTO key FROM unnest(pubs) u(name) WHERE NOT EXISTS (SELECT 1 FROM pg_publication pb WHERE pb.pubname = u.name) LIMIT 1;
            IF key IS NOT NULL THEN
                RAISE EXCEPTION 'publication "%" does not exist', key USING ERRCODE = '42704';
            END IF;
            -- What the publications publish, per table: i u d t.
            SELECT coalesce(jsonb_object_agg(agg.relid::text, agg.ops), '{}') INTO published FROM (
                SELECT pc.oid AS relid, CASE WHEN bool_or(pp.pubinsert) THEN 'i' ELSE '' END || CASE WHEN bool_or(pp.pubupdate) THEN 'u' ELSE '' END
                    || CASE WHEN bool_or(pp.pubdelete) THEN 'd' ELSE '' END || CASE WHEN bool_or(pp.pubtruncate) THEN 't' ELSE '' END AS ops
                FROM pg_publication pp JOIN pg_publication_tables pt ON pt.pubname = pp.pubname
                JOIN pg_namespace pn ON pn.nspname = pt.schemaname JOIN pg_class pc ON pc.relnamespace = pn.oid AND pc.relname = pt.tablename
                WHERE pp.pubname = ANY (pubs) AND pn.nspname <> 'zeropg_repl'
                GROUP BY pc.oid) agg;
            -- And which of its columns (column lists).
            SELECT coalesce(jsonb_object_agg(x.relid::text, x.cols), '{}') INTO pubcols FROM (
                SELECT pc.oid AS relid, jsonb_agg(DISTINCT a.name) AS cols
                FROM pg_publication_tables pt
                JOIN pg_namespace pn ON pn.nspname = pt.schemaname JOIN pg_class pc ON pc.relnamespace = pn.oid AND pc.relname = pt.tablename
                CROSS JOIN LATERAL unnest(pt.attnames) AS a(name)
                WHERE pt.pubname = ANY (pubs) AND pn.nspname <> 'zeropg_repl'
                GROUP BY pc.oid) x;
            -- Partitions published as their root (publish_via_partition_root): their changes go out under the root.
            SELECT coalesce(jsonb_object_agg(x.leaf::text, x.root), '{}') INTO roots FROM (
                SELECT DISTINCT ON (tree.relid) tree.relid::oid AS leaf, pc.oid AS root
                FROM pg_publication pp JOIN pg_publication_tables pt ON pt.pubname = pp.pubname
                JOIN pg_namespace pn ON pn.nspname = pt.schemaname JOIN pg_class pc ON pc.relnamespace = pn.oid AND pc.relname = pt.tablename
                CROSS JOIN LATERAL pg_partition_tree(pc.oid) tree
                WHERE pp.pubname = ANY (pubs) AND pp.pubviaroot AND pc.relkind = 'p' AND tree.relid <> pc.oid) x;
            consumed := NULL;
            FOR tx IN
                -- In commit order: by each transaction's last row (a prepared one's is the marker before its COMMIT PREPARED, after
                -- rows of transactions committed since its PREPARE: Capture/PreparedCommits, hence the xid in every range below).
                SELECT ch.xid AS x, min(ch.seq) AS first_seq, max(ch.seq) AS last_seq, max(ch.lsn) AS last_lsn
                FROM zeropg_repl.changes ch
                WHERE own IS NULL OR ch.xid <> own
                GROUP BY ch.xid HAVING max(ch.lsn) + 1::numeric >= s.confirmed_flush_lsn
                ORDER BY max(ch.seq)
            LOOP
                commit_lsn := tx.last_lsn + 1::numeric;
                end_lsn := tx.last_lsn + 2::numeric;
                EXIT WHEN upto_lsn IS NOT NULL AND upto_lsn <> '0/0'::pg_lsn AND commit_lsn > upto_lsn;
                txid := xid(tx.x);
                began := false;
                prev_op := NULL;
                SELECT (extract(epoch FROM ch.at) * 1000000)::bigint - 946684800000000 INTO commit_time FROM zeropg_repl.changes ch WHERE ch.seq = tx.last_seq;
                xid_bytes := int4send((CASE WHEN tx.x::text::numeric % 4294967296 > 2147483647 THEN tx.x::text::numeric % 4294967296 - 4294967296
                                            ELSE tx.x::text::numeric % 4294967296 END)::integer);
                streamed := opt_streaming IS NOT NULL AND (SELECT coalesce(sum(zeropg_repl.change_size(ch.new_row, ch.old_row, ch.prefix, ch.content)), 0) FROM zeropg_repl.changes ch
                                                            WHERE ch.xid = tx.x AND ch.seq BETWEEN tx.first_seq AND tx.last_seq AND ch.op <> 'm') >= work_mem;
                in_block := false; blocks := 0; running := 0; cut := false;
                IF streamed THEN
                    -- pgoutput describes each relation again within a streamed transaction (per xid) and counts it sent once that commits.
                    sent_before := sent;
                    sent := '{}';
                END IF;
                IF opt_messages THEN
                    -- Messages that are not transactional go out as they are written, ahead of their transaction's Begin.
                    FOR c IN SELECT * FROM zeropg_repl.changes ch WHERE ch.xid = tx.x AND ch.seq BETWEEN tx.first_seq AND tx.last_seq AND ch.op = 'm' ORDER BY ch.seq LOOP
                        lsn := c.lsn; xid := '0'::xid;
                        data := '\x4d00'::bytea || zeropg_repl.pgo_lsn(c.lsn) || zeropg_repl.pgo_string(c.prefix)
                            || int4send(length(coalesce(c.content, ''::bytea))) || coalesce(c.content, ''::bytea);
                        RETURN NEXT; returned := returned + 1;
                    END LOOP;
                END IF;
                FOR c IN SELECT * FROM zeropg_repl.changes ch WHERE ch.xid = tx.x AND ch.seq BETWEEN tx.first_seq AND tx.last_seq ORDER BY ch.seq LOOP
                    this_op := c.op::text;
                    IF streamed AND this_op <> 'm' THEN
                        -- A block ends after the change that brings it to the limit: the next frame opens another.
                        IF running >= work_mem THEN
                            cut := true;
                            running := 0;
                        END IF;
                        running := running + zeropg_repl.change_size(c.new_row, c.old_row, c.prefix, c.content);
                    END IF;
                    continues_truncate := this_op = 'T' AND prev_op IS NOT DISTINCT FROM 'T';
                    prev_op := this_op;
                    CONTINUE WHEN this_op = 'm' OR continues_truncate OR (this_op = 'M' AND NOT opt_messages);
                    frames := '{}';
                    IF this_op = 'M' THEN
                        frames := ARRAY['\x4d01'::bytea || zeropg_repl.pgo_lsn(c.lsn) || zeropg_repl.pgo_string(c.prefix)
                            || int4send(length(coalesce(c.content, ''::bytea))) || coalesce(c.content, ''::bytea)];
                    ELSIF this_op = 'T' THEN
                        -- One TRUNCATE of several tables records consecutive rows: one 'T' (options from the first row).
                        rels := '{}';
                        FOR tr IN SELECT * FROM zeropg_repl.changes ch WHERE ch.xid = tx.x AND ch.seq BETWEEN c.seq AND tx.last_seq ORDER BY ch.seq LOOP
                            EXIT WHEN tr.op <> 'T';
                            -- A TRUNCATE gives the table a new relfilenode: pgoutput forgets its Relation (sent again before the 'T').
                            sent := sent - tr.relid::text;
                            -- A partition published as its root is not sent (the root's own row is, when the root was truncated).
                            CONTINUE WHEN roots ? tr.relid::text OR tr.relid = ANY (rels) OR position('t' IN coalesce(published ->> tr.relid::text, '')) = 0;
                            shape := zeropg_repl.restrict_shape(zeropg_repl.shape_at(tr.relid, tr.lsn), pubcols -> tr.relid::text);
                            CONTINUE WHEN shape IS NULL;
                            rels := rels || tr.relid;
                            IF sent ->> tr.relid::text IS DISTINCT FROM shape::text THEN
                                frames := frames || zeropg_repl.pgo_relation(tr.relid, shape);
                                sent := sent || jsonb_build_object(tr.relid::text, shape::text);
                            END IF;
                        END LOOP;
                        CONTINUE WHEN cardinality(rels) = 0;
                        msg := '\x54'::bytea || int4send(cardinality(rels)) || set_byte('\x00'::bytea, 0, coalesce(get_byte(c.content, 0), 0));
                        FOREACH r IN ARRAY rels LOOP
                            msg := msg || zeropg_repl.pgo_oid(r);
                        END LOOP;
                        frames := frames || msg;
                    ELSE
                        target := coalesce((roots ->> c.relid::text)::oid, c.relid);
                        ops := published ->> target::text;
                        CONTINUE WHEN ops IS NULL OR position(lower(this_op) IN ops) = 0;
                        -- Row filters (Capture/RowFilters): an UPDATE whose old row passes and new row does not goes out as a DELETE,
                        -- the other way round as an INSERT; neither, not at all.
                        IF NOT filters ? target::text THEN
                            filters := filters || jsonb_build_object(target::text, jsonb_build_object('I', zeropg_repl.row_filter(target, 'I', pubs),
                                'U', zeropg_repl.row_filter(target, 'U', pubs), 'D', zeropg_repl.row_filter(target, 'D', pubs)));
                        END IF;
                        filter := filters -> target::text ->> this_op;
                        IF filter IS NOT NULL THEN
                            this_op := CASE this_op
                                WHEN 'I' THEN CASE WHEN zeropg_repl.row_matches(c.relid, filter, c.new_row, c.lsn) THEN 'I' END
                                WHEN 'D' THEN CASE WHEN zeropg_repl.row_matches(c.relid, filter, c.old_row, c.lsn) THEN 'D' END
                                ELSE CASE WHEN zeropg_repl.row_matches(c.relid, filter, c.old_row, c.lsn)
                                          THEN CASE WHEN zeropg_repl.row_matches(c.relid, filter, c.new_row, c.lsn) THEN 'U' ELSE 'D' END
                                          ELSE CASE WHEN zeropg_repl.row_matches(c.relid, filter, c.new_row, c.lsn) THEN 'I' END END END;
                            CONTINUE WHEN this_op IS NULL;
                        END IF;
                        shape := zeropg_repl.restrict_shape(zeropg_repl.shape_at(target, c.lsn), pubcols -> target::text);
                        CONTINUE WHEN shape IS NULL OR (this_op = 'D' AND shape ->> 'ident' = 'n'); -- nothing identifies the row
                        old_row := c.old_row;
                        new_row := c.new_row;
                        partition := NULL;
                        IF target <> c.relid THEN
                            -- The root's Relation, then the partition's own, both again until the partition's was sent (pgoutput's maybe_send_schema).
                            partition := zeropg_repl.restrict_shape(zeropg_repl.shape_at(c.relid, c.lsn), pubcols -> target::text);
                            CONTINUE WHEN partition IS NULL;
                            old_row := zeropg_repl.reorder_record(c.old_row, partition, shape);
                            new_row := zeropg_repl.reorder_record(c.new_row, partition, shape);
                        END IF;
                        IF sent ->> c.relid::text IS DISTINCT FROM (shape::text || coalesce(partition::text, '')) THEN
                            frames := zeropg_repl.pgo_relation(target, shape);
                            IF partition IS NOT NULL THEN
                                frames := frames || zeropg_repl.pgo_relation(c.relid, partition);
                            END IF;
                            sent := sent || jsonb_build_object(c.relid::text, shape::text || coalesce(partition::text, ''));
                        END IF;
                        IF this_op = 'I' THEN
                            msg := '\x49'::bytea || zeropg_repl.pgo_oid(target) || '\x4e'::bytea || zeropg_repl.pgo_tuple(shape, new_row, opt_binary, false);
                        ELSIF this_op = 'U' THEN
                            new_t := zeropg_repl.pgo_tuple(shape, new_row, opt_binary, false);
                            IF shape ->> 'ident' = 'f' THEN
                                msg := '\x55'::bytea || zeropg_repl.pgo_oid(target) || '\x4f'::bytea || zeropg_repl.pgo_tuple(shape, old_row, opt_binary, false)
                                    || '\x4e'::bytea || new_t;
                            ELSE
                                old_t := zeropg_repl.pgo_tuple(shape, old_row, opt_binary, true);
                                key_changed := shape ->> 'ident' <> 'n' AND old_t <> zeropg_repl.pgo_tuple(shape, new_row, opt_binary, true);
                                msg := '\x55'::bytea || zeropg_repl.pgo_oid(target) || CASE WHEN key_changed THEN '\x4b'::bytea || old_t ELSE ''::bytea END
                                    || '\x4e'::bytea || new_t;
                            END IF;
                        ELSE
                            msg := '\x44'::bytea || zeropg_repl.pgo_oid(target)
                                || CASE WHEN shape ->> 'ident' = 'f' THEN '\x4f'::bytea || zeropg_repl.pgo_tuple(shape, old_row, opt_binary, false)
                                        ELSE '\x4b'::bytea || zeropg_repl.pgo_tuple(shape, old_row, opt_binary, true) END;
                        END IF;
                        frames := frames || msg;
                    END IF;
                    IF streamed THEN
                        began := true;
                        IF cut AND in_block THEN
                            lsn := last_lsn; xid := txid; data := '\x45'::bytea; RETURN NEXT; returned := returned + 1;
                            in_block := false;
                        END IF;
                        cut := false;
                        IF NOT in_block THEN
                            lsn := c.lsn; xid := txid; data := '\x53'::bytea || xid_bytes || CASE WHEN blocks = 0 THEN '\x01'::bytea ELSE '\x00'::bytea END;
                            RETURN NEXT; returned := returned + 1;
                            in_block := true;
                            blocks := blocks + 1;
                        END IF;
                        last_lsn := c.lsn;
                        FOREACH msg IN ARRAY frames LOOP
                            lsn := c.lsn; xid := txid; data := substr(msg, 1, 1) || xid_bytes || substr(msg, 2); RETURN NEXT; returned := returned + 1;
                        END LOOP;
                        CONTINUE;
                    END IF;
                    IF NOT began THEN
                        began := true;
                        lsn := (SELECT ch.lsn FROM zeropg_repl.changes ch WHERE ch.seq = tx.first_seq); xid := txid;
                        data := '\x42'::bytea || zeropg_repl.pgo_lsn(commit_lsn) || int8send(commit_time)
                            || xid_bytes;
                        RETURN NEXT; returned := returned + 1;
                    END IF;
                    FOREACH msg IN ARRAY frames LOOP
                        lsn := c.lsn; xid := txid; data := msg; RETURN NEXT; returned := returned + 1;
                    END LOOP;
                END LOOP;
                IF streamed THEN
                    sent := sent_before || sent;
                END IF;
                -- ... and again at the truncating transaction's commit: the Relation goes out again before the table's next change.
                sent := sent - ARRAY(SELECT ch.relid::text FROM zeropg_repl.changes ch WHERE ch.xid = tx.x AND ch.seq BETWEEN tx.first_seq AND tx.last_seq AND ch.op = 'T');
                IF began AND streamed THEN
                    lsn := last_lsn; xid := txid; data := '\x45'::bytea; RETURN NEXT; returned := returned + 1;
                    lsn := end_lsn; xid := txid;
                    data := '\x63'::bytea || xid_bytes || '\x00'::bytea || zeropg_repl.pgo_lsn(commit_lsn) || zeropg_repl.pgo_lsn(end_lsn) || int8send(commit_time);
                    RETURN NEXT; returned := returned + 1;
                ELSIF began THEN
                    lsn := end_lsn; xid := txid;
                    data := '\x4300'::bytea || zeropg_repl.pgo_lsn(commit_lsn) || zeropg_repl.pgo_lsn(end_lsn) || int8send(commit_time);
                    RETURN NEXT; returned := returned + 1;
                END IF;
                consumed := end_lsn;
                IF upto_nchanges IS NOT NULL AND upto_nchanges > 0 AND returned >= upto_nchanges THEN
                    hit_limit := true;
                    EXIT;
                END IF;
            END LOOP;
            IF confirm THEN
                -- Past everything read: to the end of the WAL when nothing stopped it early.
                consumed := CASE WHEN hit_limit OR (upto_lsn IS NOT NULL AND upto_lsn <> '0/0'::pg_lsn AND upto_lsn < wal_end)
                                 THEN coalesce(consumed, s.confirmed_flush_lsn) ELSE wal_end END;
                UPDATE zeropg_repl.slots sl SET confirmed_flush_lsn = consumed WHERE sl.slot_name = slot AND sl.confirmed_flush_lsn < consumed;
                PERFORM zeropg_repl.purge();
            END IF;
        END $$;

        -- The four functions a client calls (rewritten to these): Postgres's signatures after ZeroPg's two, run as the caller.
        CREATE OR REPLACE FUNCTION zeropg_repl.pg_logical_slot_get_changes(zp_caller integer, zp_active jsonb, slot_name name, upto_lsn pg_lsn,
            upto_nchanges integer, VARIADIC options text[] DEFAULT '{}', OUT lsn pg_lsn, OUT xid xid, OUT data text)
        RETURNS SETOF record LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
            SELECT zeropg_repl.check_slot_permissions();
            SELECT d.lsn, d.xid, NULL::text FROM zeropg_repl.decode($3, $4, $5, $6, $1, $2, false, true, 'pg_logical_slot_get_changes(name,pg_lsn,integer,text[])') d;
        $$;
        CREATE OR REPLACE FUNCTION zeropg_repl.pg_logical_slot_peek_changes(zp_caller integer, zp_active jsonb, slot_name name, upto_lsn pg_lsn,
            upto_nchanges integer, VARIADIC options text[] DEFAULT '{}', OUT lsn pg_lsn, OUT xid xid, OUT data text)
        RETURNS SETOF record LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
            SELECT zeropg_repl.check_slot_permissions();
            SELECT d.lsn, d.xid, NULL::text FROM zeropg_repl.decode($3, $4, $5, $6, $1, $2, false, false, 'pg_logical_slot_peek_changes(name,pg_lsn,integer,text[])') d;
        $$;
        CREATE OR REPLACE FUNCTION zeropg_repl.pg_logical_slot_get_binary_changes(zp_caller integer, zp_active jsonb, slot_name name, upto_lsn pg_lsn,
            upto_nchanges integer, VARIADIC options text[] DEFAULT '{}', OUT lsn pg_lsn, OUT xid xid, OUT data bytea)
        RETURNS SETOF record LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
            SELECT zeropg_repl.check_slot_permissions();
            SELECT d.lsn, d.xid, d.data FROM zeropg_repl.decode($3, $4, $5, $6, $1, $2, true, true, 'pg_logical_slot_get_binary_changes(name,pg_lsn,integer,text[])') d;
        $$;
        CREATE OR REPLACE FUNCTION zeropg_repl.pg_logical_slot_peek_binary_changes(zp_caller integer, zp_active jsonb, slot_name name, upto_lsn pg_lsn,
            upto_nchanges integer, VARIADIC options text[] DEFAULT '{}', OUT lsn pg_lsn, OUT xid xid, OUT data bytea)
        RETURNS SETOF record LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
            SELECT zeropg_repl.check_slot_permissions();
            SELECT d.lsn, d.xid, d.data FROM zeropg_repl.decode($3, $4, $5, $6, $1, $2, true, false, 'pg_logical_slot_peek_binary_changes(name,pg_lsn,integer,text[])') d;
        $$;
        """";
}
