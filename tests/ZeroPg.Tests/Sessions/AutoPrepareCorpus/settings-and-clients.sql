# ---- session settings and cross-client sharing
!DROP TABLE IF EXISTS p2 CASCADE
!DROP SCHEMA IF EXISTS s3 CASCADE
!CREATE TABLE p2 (id int, v text)
!INSERT INTO p2 VALUES (1, 'public')
!CREATE SCHEMA s3
!CREATE TABLE s3.p2 (x text, y text, z text)
!INSERT INTO s3.p2 VALUES ('s3', 'b', 'c')
SELECT * FROM p2 WHERE 2 > 1
!SET search_path = s3, public
SELECT * FROM p2 WHERE 2 > 1
!RESET search_path
SELECT * FROM p2 WHERE 2 > 1
SELECT 'now'::timestamptz = now(), 1 + 1
SELECT 'today'::date = current_date, 2 + 2
SELECT '2024-06-01 12:00'::timestamptz + interval '1 s' * 0 AS t6
@tokyo
!SET TimeZone = 'Asia/Tokyo'
SELECT '2024-06-01 12:00'::timestamptz + interval '1 s' * 0 AS t6
@s3client
!SET search_path = s3, public
SELECT * FROM p2 WHERE 2 > 1
@main
SELECT * FROM p2 WHERE 2 > 1
@s3client
SELECT * FROM p2 WHERE 2 > 1
@main
!CREATE OR REPLACE FUNCTION add_col() RETURNS void LANGUAGE plpgsql AS $f$ BEGIN EXECUTE 'ALTER TABLE p2 ADD COLUMN w int'; END $f$
SELECT * FROM p2 WHERE id = 1
!SELECT add_col()
SELECT * FROM p2 WHERE id = 1
SELECT * FROM p2 WHERE id = 1
!SET plan_cache_mode = force_generic_plan
SELECT count(*) FROM p2 WHERE id = 1
!RESET plan_cache_mode
SELECT 1 + 1 FROM p2 WHERE id = 1 FOR UPDATE
SELECT 5 + 1e-3, 1.5e+2 * 1
SELECT 1 + 2 FROM p2 WHERE v = 'x' || 1
