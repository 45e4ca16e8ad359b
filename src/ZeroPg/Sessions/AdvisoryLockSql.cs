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
    public const string BusySqlState = "ZPLCK";

    public const string Install = """
        CREATE TEMP TABLE IF NOT EXISTS zp_advisory_locks(
            holder int, space smallint, key1 bigint, key2 int, shared bool, count int,
            PRIMARY KEY (holder, space, key1, key2, shared));
        CREATE OR REPLACE FUNCTION pg_temp.zp_try(p_holder int, p_space smallint, p_key1 bigint, p_key2 int, p_shared bool) RETURNS bool
        LANGUAGE plpgsql AS $zp$
        BEGIN
            IF EXISTS (SELECT 1 FROM pg_temp.zp_advisory_locks l WHERE l.space = p_space AND l.key1 = p_key1 AND l.key2 = p_key2
                       AND l.holder <> p_holder AND (NOT p_shared OR NOT l.shared)) THEN
                RETURN false;
            END IF;
            INSERT INTO pg_temp.zp_advisory_locks AS l VALUES (p_holder, p_space, p_key1, p_key2, p_shared, 1)
                ON CONFLICT (holder, space, key1, key2, shared) DO UPDATE SET count = l.count + 1;
            RETURN true;
        END $zp$;
        CREATE OR REPLACE FUNCTION pg_temp.zp_lock(p_holder int, p_space smallint, p_key1 bigint, p_key2 int, p_shared bool) RETURNS void
        LANGUAGE plpgsql AS $zp$
        BEGIN
            IF NOT pg_temp.zp_try(p_holder, p_space, p_key1, p_key2, p_shared) THEN
                RAISE EXCEPTION 'advisory lock is held by another client' USING ERRCODE = 'ZPLCK';
            END IF;
        END $zp$;
        CREATE OR REPLACE FUNCTION pg_temp.zp_unlock(p_holder int, p_space smallint, p_key1 bigint, p_key2 int, p_shared bool) RETURNS bool
        LANGUAGE plpgsql AS $zp$
        DECLARE remaining int;
        BEGIN
            UPDATE pg_temp.zp_advisory_locks SET count = count - 1
                WHERE holder = p_holder AND space = p_space AND key1 = p_key1 AND key2 = p_key2 AND shared = p_shared
                RETURNING count INTO remaining;
            IF NOT FOUND THEN
                RAISE WARNING 'you don''t own a lock of type %', CASE WHEN p_shared THEN 'ShareLock' ELSE 'ExclusiveLock' END;
                RETURN false;
            END IF;
            IF remaining = 0 THEN
                DELETE FROM pg_temp.zp_advisory_locks
                    WHERE holder = p_holder AND space = p_space AND key1 = p_key1 AND key2 = p_key2 AND shared = p_shared;
            END IF;
            RETURN true;
        END $zp$;
        CREATE OR REPLACE FUNCTION pg_temp.pg_advisory_lock(h int, k bigint) RETURNS void LANGUAGE sql AS $zp$ SELECT pg_temp.zp_lock(h, 1::smallint, k, 0, false) $zp$;
        CREATE OR REPLACE FUNCTION pg_temp.pg_advisory_lock(h int, k1 int, k2 int) RETURNS void LANGUAGE sql AS $zp$ SELECT pg_temp.zp_lock(h, 2::smallint, k1, k2, false) $zp$;
        CREATE OR REPLACE FUNCTION pg_temp.pg_advisory_lock_shared(h int, k bigint) RETURNS void LANGUAGE sql AS $zp$ SELECT pg_temp.zp_lock(h, 1::smallint, k, 0, true) $zp$;
        CREATE OR REPLACE FUNCTION pg_temp.pg_advisory_lock_shared(h int, k1 int, k2 int) RETURNS void LANGUAGE sql AS $zp$ SELECT pg_temp.zp_lock(h, 2::smallint, k1, k2, true) $zp$;
        CREATE OR REPLACE FUNCTION pg_temp.pg_try_advisory_lock(h int, k bigint) RETURNS bool LANGUAGE sql AS $zp$ SELECT pg_temp.zp_try(h, 1::smallint, k, 0, false) $zp$;
        CREATE OR REPLACE FUNCTION pg_temp.pg_try_advisory_lock(h int, k1 int, k2 int) RETURNS bool LANGUAGE sql AS $zp$ SELECT pg_temp.zp_try(h, 2::smallint, k1, k2, false) $zp$;
        CREATE OR REPLACE FUNCTION pg_temp.pg_try_advisory_lock_shared(h int, k bigint) RETURNS bool LANGUAGE sql AS $zp$ SELECT pg_temp.zp_try(h, 1::smallint, k, 0, true) $zp$;
        CREATE OR REPLACE FUNCTION pg_temp.pg_try_advisory_lock_shared(h int, k1 int, k2 int) RETURNS bool LANGUAGE sql AS $zp$ SELECT pg_temp.zp_try(h, 2::smallint, k1, k2, true) $zp$;
        CREATE OR REPLACE FUNCTION pg_temp.pg_advisory_unlock(h int, k bigint) RETURNS bool LANGUAGE sql AS $zp$ SELECT pg_temp.zp_unlock(h, 1::smallint, k, 0, false) $zp$;
        CREATE OR REPLACE FUNCTION pg_temp.pg_advisory_unlock(h int, k1 int, k2 int) RETURNS bool LANGUAGE sql AS $zp$ SELECT pg_temp.zp_unlock(h, 2::smallint, k1, k2, false) $zp$;
        CREATE OR REPLACE FUNCTION pg_temp.pg_advisory_unlock_shared(h int, k bigint) RETURNS bool LANGUAGE sql AS $zp$ SELECT pg_temp.zp_unlock(h, 1::smallint, k, 0, true) $zp$;
        CREATE OR REPLACE FUNCTION pg_temp.pg_advisory_unlock_shared(h int, k1 int, k2 int) RETURNS bool LANGUAGE sql AS $zp$ SELECT pg_temp.zp_unlock(h, 2::smallint, k1, k2, true) $zp$;
        CREATE OR REPLACE FUNCTION pg_temp.pg_advisory_unlock_all(h int) RETURNS void LANGUAGE sql AS $zp$ DELETE FROM pg_temp.zp_advisory_locks WHERE holder = h $zp$;
        """;

    public static string UnlockAll(int processId) => $"SELECT pg_temp.pg_advisory_unlock_all({processId})";
}
