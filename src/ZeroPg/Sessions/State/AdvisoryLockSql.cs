namespace ZeroPg.Sessions;

/// <summary>
/// Session-level advisory locks per client. The engine has one session, so Postgres's own locks would
/// never exclude anyone. ZeroPg rewrites pg_advisory_* calls into these temp functions of the same names (so a
/// result column is named as Postgres names it) with the client's process id first, which keep a
/// lock table keyed by the client's process id. A blocking lock that is taken raises ZPLCK; ZeroPg
/// then gives the engine to other clients and retries the statement when a lock is released.
/// </summary>
internal static class AdvisoryLockSql
{
    /// <summary>
    /// Every object of ZeroPg's own in the engine session is named with this prefix, and client SQL naming one (or a
    /// pg_temp-qualified advisory function, which would take another client's process id) is refused
    /// (<see cref="Sql.RefusalSigns.NamesZeroPgInternals"/>), so no client can read or change another's locks.
    /// </summary>
    public const string InternalPrefix = "zeropg_internal";

    public const string BusySqlState = "ZPLCK";

    public const string Install = """
        CREATE TEMP TABLE IF NOT EXISTS zeropg_internal_advisory_locks(
            holder int, space smallint, key1 bigint, key2 int, shared bool, count int,
            PRIMARY KEY (holder, space, key1, key2, shared));
        -- Every login role's client goes through these (only ZeroPg's rewrite can name them: clients' SQL that does is refused).
        GRANT ALL ON pg_temp.zeropg_internal_advisory_locks TO PUBLIC;
        CREATE OR REPLACE FUNCTION pg_temp.zeropg_internal_try(p_holder int, p_space smallint, p_key1 bigint, p_key2 int, p_shared bool) RETURNS bool
        LANGUAGE plpgsql AS $zp$
        BEGIN
            IF EXISTS (SELECT 1 FROM pg_temp.zeropg_internal_advisory_locks l WHERE l.space = p_space AND l.key1 = p_key1 AND l.key2 = p_key2
                       AND l.holder <> p_holder AND (NOT p_shared OR NOT l.shared)) THEN
                RETURN false;
            END IF;
            INSERT INTO pg_temp.zeropg_internal_advisory_locks AS l VALUES (p_holder, p_space, p_key1, p_key2, p_shared, 1)
                ON CONFLICT (holder, space, key1, key2, shared) DO UPDATE SET count = l.count + 1;
            RETURN true;
        END $zp$;
        CREATE OR REPLACE FUNCTION pg_temp.zeropg_internal_lock(p_holder int, p_space smallint, p_key1 bigint, p_key2 int, p_shared bool) RETURNS void
        LANGUAGE plpgsql AS $zp$
        BEGIN
            IF NOT pg_temp.zeropg_internal_try(p_holder, p_space, p_key1, p_key2, p_shared) THEN
                RAISE EXCEPTION 'advisory lock is held by another client' USING ERRCODE = 'ZPLCK';
            END IF;
        END $zp$;
        CREATE OR REPLACE FUNCTION pg_temp.zeropg_internal_unlock(p_holder int, p_space smallint, p_key1 bigint, p_key2 int, p_shared bool) RETURNS bool
        LANGUAGE plpgsql AS $zp$
        DECLARE remaining int;
        BEGIN
            UPDATE pg_temp.zeropg_internal_advisory_locks SET count = count - 1
                WHERE holder = p_holder AND space = p_space AND key1 = p_key1 AND key2 = p_key2 AND shared = p_shared
                RETURNING count INTO remaining;
            IF NOT FOUND THEN
                RAISE WARNING 'you don''t own a lock of type %', CASE WHEN p_shared THEN 'ShareLock' ELSE 'ExclusiveLock' END;
                RETURN false;
            END IF;
            IF remaining = 0 THEN
                DELETE FROM pg_temp.zeropg_internal_advisory_locks
                    WHERE holder = p_holder AND space = p_space AND key1 = p_key1 AND key2 = p_key2 AND shared = p_shared;
            END IF;
            RETURN true;
        END $zp$;
        CREATE OR REPLACE FUNCTION pg_temp.pg_advisory_lock(h int, k bigint) RETURNS void LANGUAGE sql AS $zp$ SELECT pg_temp.zeropg_internal_lock(h, 1::smallint, k, 0, false) $zp$;
        CREATE OR REPLACE FUNCTION pg_temp.pg_advisory_lock(h int, k1 int, k2 int) RETURNS void LANGUAGE sql AS $zp$ SELECT pg_temp.zeropg_internal_lock(h, 2::smallint, k1, k2, false) $zp$;
        CREATE OR REPLACE FUNCTION pg_temp.pg_advisory_lock_shared(h int, k bigint) RETURNS void LANGUAGE sql AS $zp$ SELECT pg_temp.zeropg_internal_lock(h, 1::smallint, k, 0, true) $zp$;
        CREATE OR REPLACE FUNCTION pg_temp.pg_advisory_lock_shared(h int, k1 int, k2 int) RETURNS void LANGUAGE sql AS $zp$ SELECT pg_temp.zeropg_internal_lock(h, 2::smallint, k1, k2, true) $zp$;
        CREATE OR REPLACE FUNCTION pg_temp.pg_try_advisory_lock(h int, k bigint) RETURNS bool LANGUAGE sql AS $zp$ SELECT pg_temp.zeropg_internal_try(h, 1::smallint, k, 0, false) $zp$;
        CREATE OR REPLACE FUNCTION pg_temp.pg_try_advisory_lock(h int, k1 int, k2 int) RETURNS bool LANGUAGE sql AS $zp$ SELECT pg_temp.zeropg_internal_try(h, 2::smallint, k1, k2, false) $zp$;
        CREATE OR REPLACE FUNCTION pg_temp.pg_try_advisory_lock_shared(h int, k bigint) RETURNS bool LANGUAGE sql AS $zp$ SELECT pg_temp.zeropg_internal_try(h, 1::smallint, k, 0, true) $zp$;
        CREATE OR REPLACE FUNCTION pg_temp.pg_try_advisory_lock_shared(h int, k1 int, k2 int) RETURNS bool LANGUAGE sql AS $zp$ SELECT pg_temp.zeropg_internal_try(h, 2::smallint, k1, k2, true) $zp$;
        CREATE OR REPLACE FUNCTION pg_temp.pg_advisory_unlock(h int, k bigint) RETURNS bool LANGUAGE sql AS $zp$ SELECT pg_temp.zeropg_internal_unlock(h, 1::smallint, k, 0, false) $zp$;
        CREATE OR REPLACE FUNCTION pg_temp.pg_advisory_unlock(h int, k1 int, k2 int) RETURNS bool LANGUAGE sql AS $zp$ SELECT pg_temp.zeropg_internal_unlock(h, 2::smallint, k1, k2, false) $zp$;
        CREATE OR REPLACE FUNCTION pg_temp.pg_advisory_unlock_shared(h int, k bigint) RETURNS bool LANGUAGE sql AS $zp$ SELECT pg_temp.zeropg_internal_unlock(h, 1::smallint, k, 0, true) $zp$;
        CREATE OR REPLACE FUNCTION pg_temp.pg_advisory_unlock_shared(h int, k1 int, k2 int) RETURNS bool LANGUAGE sql AS $zp$ SELECT pg_temp.zeropg_internal_unlock(h, 2::smallint, k1, k2, true) $zp$;
        CREATE OR REPLACE FUNCTION pg_temp.pg_advisory_unlock_all(h int) RETURNS void LANGUAGE sql AS $zp$ DELETE FROM pg_temp.zeropg_internal_advisory_locks WHERE holder = h $zp$;
        """;

    public static string UnlockAll(int processId) => $"SELECT pg_temp.pg_advisory_unlock_all({processId})";

    /// <summary>The client's locks as a VALUES list of the lock table (one text column, NULL when it holds none), kept outside the engine to survive its restarts.</summary>
    public static string Snapshot(int processId)
        => "SELECT 'held', pg_catalog.string_agg(pg_catalog.format('(%s,%s,%s,%s,%L,%s)', holder, space, key1, key2, shared, count), ',')"
            + $" FROM pg_temp.zeropg_internal_advisory_locks WHERE holder = {processId}";

    /// <summary>Puts locks kept outside the engine (<see cref="Snapshot"/>'s lists) back into a new engine session's lock table.</summary>
    public static string Restore(IEnumerable<string> valueLists)
    {
        var values = string.Join(",", valueLists);
        return values.Length == 0 ? "" : $"INSERT INTO pg_temp.zeropg_internal_advisory_locks VALUES {values} ON CONFLICT DO NOTHING";
    }

    /// <summary>
    /// pg_locks as a client must see it: the engine's own locks (those of the transaction under way, which is the client's) under the
    /// client's process id, and every client's session advisory locks from ZeroPg's table under its holder's process id, with
    /// Postgres's key layout (classid/objid/objsubid). The locks this view's own reading takes on ZeroPg's table (and any on ZeroPg's
    /// objects) are left out, told by the relation's name, which regclass looks up without a lock; the database comes from the
    /// engine's own backend entry rather than pg_database, which the view would then lock too.
    /// </summary>
    public static string LocksView(int processId)
        => "(SELECT l.locktype, l.database, l.relation, l.page, l.tuple, l.virtualxid, l.transactionid, l.classid, l.objid, l.objsubid,"
            + $" l.virtualtransaction, CASE WHEN l.pid OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid() THEN {processId} ELSE l.pid END AS pid,"
            + " l.mode, l.granted, l.fastpath, l.waitstart FROM pg_catalog.pg_locks l"
            + " WHERE l.relation IS NULL OR l.relation::pg_catalog.regclass::pg_catalog.text OPERATOR(pg_catalog.!~) '" + OwnRelations + "'"
            + " UNION ALL SELECT 'advisory'::pg_catalog.text,"
            + " (SELECT pg_catalog.pg_stat_get_backend_dbid(b) FROM pg_catalog.pg_stat_get_backend_idset() b"
            + " WHERE pg_catalog.pg_stat_get_backend_pid(b) OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid()),"
            + " NULL::pg_catalog.oid, NULL::pg_catalog.int4, NULL::pg_catalog.int2,"
            + " NULL::pg_catalog.text, NULL::pg_catalog.xid,"
            + " (CASE WHEN a.space OPERATOR(pg_catalog.=) 1 THEN (a.key1 OPERATOR(pg_catalog.>>) 32) ELSE a.key1 END OPERATOR(pg_catalog.&) 4294967295)::pg_catalog.oid,"
            + " (CASE WHEN a.space OPERATOR(pg_catalog.=) 1 THEN a.key1 ELSE a.key2::pg_catalog.int8 END OPERATOR(pg_catalog.&) 4294967295)::pg_catalog.oid,"
            + " a.space, a.holder::pg_catalog.text OPERATOR(pg_catalog.||) '/0', a.holder,"
            + " CASE WHEN a.shared THEN 'ShareLock' ELSE 'ExclusiveLock' END::pg_catalog.text, true, false, NULL::pg_catalog.timestamptz"
            + " FROM pg_temp.zeropg_internal_advisory_locks a)";

    /// <summary>The names (as regclass prints them) of relations that are ZeroPg's: its schema's, its lock table and index.</summary>
    private const string OwnRelations = "^(\"?zeropg_repl\"?\\.|(pg_temp_[0-9]+\\.)?" + InternalPrefix + ")";
}
