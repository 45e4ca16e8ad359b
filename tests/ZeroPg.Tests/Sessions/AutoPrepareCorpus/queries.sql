# ---- setup
!DROP TABLE IF EXISTS t, u, g, big, js, dt, arr, e, dm, conf CASCADE
!CREATE TABLE t (id int PRIMARY KEY, a int, b bigint, c numeric(10,2), d float8, s text, v varchar(5), sm smallint)
!INSERT INTO t SELECT i, i % 7, i * 1000000000::bigint, i / 3.0, i / 7.0, 'x' || i, left('v' || i, 5), i FROM generate_series(1, 40) i
!CREATE TABLE u (id int PRIMARY KEY, t_id int, amt numeric)
!INSERT INTO u SELECT i, i % 10, i * 1.5 FROM generate_series(1, 30) i
!CREATE TABLE js (id int, j jsonb, jt json)
!INSERT INTO js VALUES (1, '{"a":[1,2,3],"b":{"c":5},"0":"zero"}', '{"a":[1,2,3]}'), (2, '[10,20,30]', '[10,20,30]')
!CREATE TABLE dt (id int, d date, ts timestamp, tz timestamptz, iv interval)
!INSERT INTO dt VALUES (1, '2024-02-28', '2024-02-28 12:00', '2024-02-28 12:00+00', '1 day 2 hours'), (2, '2023-12-31', '2023-12-31 23:59:59', '2023-12-31 23:59:59+00', '-3 days')
!CREATE TABLE arr (id int, a int[], m int[][], t text[])
!INSERT INTO arr VALUES (1, '{1,2,3,4,5}', '{{1,2},{3,4}}', '{a,b,c}'), (2, '{}', '{{5,6},{7,8}}', '{}')
!CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')
!CREATE DOMAIN posint AS int CHECK (VALUE > 0)
!CREATE TABLE e (id int, m mood, p posint, g int GENERATED ALWAYS AS (p * 2 + 1) STORED)
!INSERT INTO e (id, m, p) VALUES (1, 'sad', 1), (2, 'happy', 5)
!CREATE TABLE conf (k int PRIMARY KEY, n int DEFAULT 0, note text)
!CREATE VIEW tv AS SELECT id, a * 2 + 1 AS a2, c * 1.5 AS c15 FROM t WHERE id > 5
!CREATE INDEX t_a_partial ON t (a) WHERE a > 3
!CREATE INDEX t_expr ON t ((a * 10 + 1))
# ---- basic comparisons and arithmetic
SELECT id, a FROM t WHERE id = 5
SELECT id FROM t WHERE id=5
SELECT id FROM t WHERE id=-5
SELECT id FROM t WHERE a<-1
SELECT id FROM t WHERE a<>-1 ORDER BY id LIMIT 3
SELECT id FROM t WHERE a!=-1 ORDER BY id LIMIT 3
SELECT id FROM t WHERE a >=3 AND a<= 4 ORDER BY id
SELECT 1+2, 1 - -2, 1- -2, 1--2
SELECT 1+2 AS x
SELECT 2^-1
SELECT 2 ^ -1
SELECT -1^2
SELECT - 1 ^ 2
SELECT 2 ^ 3 ^ 2
SELECT 7 / 2, 7 % 3, 7.0 / 2, 7 / 2.0
SELECT 1 / 3.0, 1.0 / 3
SELECT 10 / 4 * 2.5
SELECT 2.50 * 2, 1.50 + 0, 1.5 + 0, 1.500 - 0.5
SELECT 0.1 + 0.2
SELECT 1e3 + 1, 1.5e2 * 2, 1E-2 / 2
SELECT 0x10 + 1, 0o17 + 1, 0b101 + 1, 1_000 + 1
SELECT 10 / 0x3, 7 / 1_000
SELECT .5 + 1, 1 + .5, 5. + 1
SELECT 1 + 2 * 3 - 4 / 2
SELECT +5 + +5, 5 + + 5
SELECT ~5, ~ -5, @ -5, |/ 25, ||/ 27
SELECT 5 & 3, 5 | 3, 5 # 3, 1 << 4, 256 >> 2
SELECT 2147483647 + 0
SELECT 2147483647 + 1
SELECT 2147483648 + 0
SELECT -2147483648 + 0
SELECT 0 + -2147483648
SELECT 0 - 2147483648
SELECT 1 * -2147483648
SELECT pg_typeof(1 * -2147483648), pg_typeof(1 * 2147483648)
SELECT pg_typeof(0 + -9223372036854775808), pg_typeof(0 + 9223372036854775807), pg_typeof(0 + 9223372036854775808)
SELECT 9223372036854775807 + 0
SELECT 9223372036854775807 + 1
SELECT 9223372036854775808 + 0
SELECT 0 - 9223372036854775808
SELECT 0 + -9223372036854775808
SELECT 0 + -9223372036854775809
SELECT 99999999999999999999999999 * 10
SELECT -2147483648 / -1
SELECT 0 + -2147483648 / -1
SELECT 0 - -2147483648 / -1
SELECT 1 * -0::float8, 1 * -0.0::float8
SELECT 0 * -1.0, -0.0 + 0
SELECT 1 * -5::text
SELECT 'a' || -5::text
SELECT 0 + -5::int2, 0 + -32768::int2
SELECT 1 * -32768::int2
SELECT 0 + -2147483648::int4
SELECT 0 + -9223372036854775808::int8
SELECT 1 + -1.5::numeric(3,0), 1 + -1.25::numeric(4,1)
SELECT 1/0
SELECT 1 / 0.0
SELECT 1 % 0
SELECT 1.0 / 0::float8
SELECT 1 / 0::float8
SELECT 2.0 ^ 0.5, 4 ^ 0.5, 8 ^ (1.0/3)
SELECT 2::float8 ^ 1024
SELECT 10 ^ 308 * 10
SELECT 1 / d FROM t WHERE id = 7
SELECT id, a / (a - 3) FROM t WHERE id < 5 ORDER BY id
SELECT id, 100 / (4 - a) FROM t ORDER BY id
# ---- numeric scale
SELECT c + 0, c * 1.50, c * 1.5, c - 0.00 FROM t WHERE id = 4
SELECT round(c * 1.005, 2), trunc(c / 3, 3) FROM t WHERE id = 10
SELECT 1.50 = 1.5, 1.50::text = 1.5::text
SELECT (1.50 + 0)::text, (1.5 + 0)::text, (1.500 * 1)::text
SELECT scale(1.50 + 0), scale(1.5 * 1), scale(0.000 + 0)
SELECT 123456789012345678901234567890.123 + 1
# ---- text
SELECT 'abc' || 5, 5 || 'abc', 'n' || 1.50
SELECT s || 1 FROM t WHERE id = 3
SELECT 'a=5' || 'b', 'x + 5', '5' || 5
SELECT 'it''s 5' || 5
SELECT E'x\n5' || 5
SELECT $$a + 5$$ || 5, $q$ 1 + 2 $q$ || 3
SELECT U&'d\0061t' || 5
SELECT "id" + 5 FROM t WHERE "id" = 5
SELECT t."a" * 2 FROM t WHERE t.id = 2
SELECT id -- comment with 5 + 5
  , a + 1 FROM t WHERE id = 2
SELECT id + 1 /* c 5 */ FROM t WHERE id = 2
SELECT id + 1 /* nested /* 5 */ still */ FROM t WHERE id = 2
SELECT length(s) + 2 FROM t WHERE id = 12
SELECT substr('hello', 1 + 1, 2 + 0), repeat('ab', 1 + 1)
SELECT 'x' LIKE 'x%' AND 1 = 1
SELECT 1 = 1 AS "5 + 5"
SELECT 1 + 1 AS "sum", 2 + 2 AS sum2
# ---- group by / order by / distinct
SELECT a % 3, count(*) FROM t GROUP BY a % 3 ORDER BY 1
SELECT a % 3 AS k, count(*) FROM t GROUP BY 1 ORDER BY 1
SELECT a + 1, count(*) FROM t GROUP BY a + 01 ORDER BY 1
SELECT a + 1, count(*) FROM t GROUP BY a + 1 ORDER BY a + 1
SELECT a * 2, sum(c) FROM t GROUP BY a * 2 HAVING sum(c) > 10 ORDER BY 1
SELECT a * 2, sum(c) FROM t GROUP BY a * 2 HAVING count(*) > 5 ORDER BY 1 DESC
SELECT a / 2 AS h, count(*) FROM t GROUP BY a / 2 ORDER BY a / 2 DESC
SELECT a + 1.0 FROM t GROUP BY a + 1.00
SELECT a + 1.0 FROM t GROUP BY a + 1.0 ORDER BY 1
SELECT id FROM t ORDER BY 1 LIMIT 3
SELECT id FROM t ORDER BY id * -1 LIMIT 3
SELECT id FROM t ORDER BY 0 + 1 LIMIT 3
SELECT id FROM t ORDER BY +1 LIMIT 3
SELECT id FROM t ORDER BY a DESC, id LIMIT 3 OFFSET 1
SELECT id FROM t ORDER BY id LIMIT 2 + 1 OFFSET 4 - 1
SELECT id FROM t ORDER BY id LIMIT +3
SELECT id FROM t ORDER BY id OFFSET +2 ROWS FETCH FIRST 2 ROWS ONLY
SELECT id FROM t ORDER BY id OFFSET 2 ROWS FETCH FIRST +2 ROWS ONLY
SELECT id FROM t ORDER BY id FETCH NEXT 1 + 1 ROWS ONLY
SELECT id FROM t ORDER BY id FETCH FIRST (1 + 1) ROWS ONLY
SELECT id FROM t ORDER BY a FETCH FIRST 2 ROWS WITH TIES
SELECT id FROM t ORDER BY id LIMIT -1
SELECT id FROM t ORDER BY id LIMIT 0 - 1
SELECT DISTINCT a % 2 FROM t ORDER BY a % 2
SELECT DISTINCT a + 1 FROM t ORDER BY a + 01
SELECT DISTINCT ON (a % 3) a % 3, id FROM t ORDER BY a % 3, id
SELECT DISTINCT ON (a) a, id * -1 FROM t ORDER BY a, id
SELECT DISTINCT ON (1) -2147483648 AS c
SELECT DISTINCT ON (1) -9223372036854775808 / 3 AS c
SELECT DISTINCT ON (1) -2147483648 + 0 AS c
SELECT a, count(*) FILTER (WHERE id > 10) FROM t GROUP BY a ORDER BY a
SELECT a, count(*) FILTER (WHERE id > 10) - 1 FROM t GROUP BY a ORDER BY a
SELECT a % 2, b / 1000000000 FROM t GROUP BY GROUPING SETS ((a % 2), (b / 1000000000)) ORDER BY 1, 2 LIMIT 5
SELECT a % 2 AS x, sum(id) FROM t GROUP BY ROLLUP (a % 2) ORDER BY 1
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY c) FROM t
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY c) * 2 FROM t
SELECT string_agg(s, ',' ORDER BY id * -1) FROM t WHERE id < 5
# ---- windows
SELECT id, sum(a) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) FROM t WHERE id < 6 ORDER BY id
SELECT id, sum(a) OVER (ORDER BY id ROWS BETWEEN 0 + 1 PRECEDING AND 2 - 1 FOLLOWING) FROM t WHERE id < 6 ORDER BY id
SELECT id, sum(a) OVER (ORDER BY id RANGE BETWEEN 2 PRECEDING AND CURRENT ROW) FROM t WHERE id < 6 ORDER BY id
SELECT id, sum(a) OVER (ORDER BY c RANGE BETWEEN 1.5 PRECEDING AND 0.5 + 0 FOLLOWING) FROM t WHERE id < 6 ORDER BY id
SELECT id, sum(a) OVER (ORDER BY id GROUPS 1 PRECEDING) FROM t WHERE id < 6 ORDER BY id
SELECT id, lag(a, 1 + 1, -1) OVER (ORDER BY id) FROM t WHERE id < 5 ORDER BY id
SELECT id, rank() OVER (PARTITION BY a % 2 ORDER BY id * -1) FROM t WHERE id < 8 ORDER BY id
SELECT id, ntile(1 + 2) OVER w FROM t WHERE id < 7 WINDOW w AS (ORDER BY id) ORDER BY id
SELECT id, sum(a) OVER (ORDER BY id) - 1 FROM t WHERE id < 5 ORDER BY id
SELECT id, sum(a) OVER (ORDER BY id ROWS -1 PRECEDING) FROM t WHERE id < 5 ORDER BY id
SELECT id, sum(a) OVER (ORDER BY id ROWS 0 - 1 PRECEDING) FROM t WHERE id < 5 ORDER BY id
# ---- case
SELECT id, CASE WHEN a > 3 THEN 1 ELSE -1 END FROM t WHERE id < 6 ORDER BY id
SELECT id, CASE a WHEN 1 THEN 'one' WHEN 2 + 0 THEN 'two' ELSE 'many' END FROM t WHERE id < 6 ORDER BY id
SELECT CASE WHEN 1 = 1 THEN 1.50 ELSE 2 END
SELECT CASE WHEN 1 > 2 THEN 1 ELSE 2.5 * 1 END
SELECT CASE WHEN id > 1 THEN 1 / 0 ELSE 0 END FROM t WHERE id = 1
SELECT CASE WHEN 1 = 1 THEN 0 ELSE 1 / 0 END
SELECT CASE WHEN id = 1 THEN 0 ELSE 1 / 0 END FROM t WHERE id = 1
SELECT CASE WHEN 1 < 0 THEN 1 ELSE 0 END - 2147483648
SELECT coalesce(NULL, 1 + 1), nullif(1 + 1, 2), greatest(1 + 1, 3), least(-1 - 1, 0)
# ---- arrays
SELECT a[1], a[1 + 1], a[2:3], a[1:1 + 1], a[:2], a[4:] FROM arr WHERE id = 1
SELECT a[-1], a[0], a[10] FROM arr WHERE id = 1
SELECT m[1][2], m[1 + 1][1], m[1:1][1:2] FROM arr ORDER BY id
SELECT ARRAY[1, 2, 3] || 4, 0 || ARRAY[1 + 1]
SELECT ARRAY[1, 2.5] || 3, ARRAY[-1, -2]
SELECT (ARRAY[1,2,3])[1 + 1], (ARRAY[1,2,3])[2:1 + 2]
SELECT array_length(a, 1) + 0 FROM arr ORDER BY id
SELECT id FROM arr WHERE 3 = ANY(a)
SELECT id FROM arr WHERE a @> ARRAY[2] AND cardinality(a) > 1
SELECT id FROM arr WHERE a && '{1,9}' OR 1 = 0
SELECT a[1:2] = ARRAY[1,2] FROM arr WHERE id = 1
SELECT '{1,2,3}'::int[] || 4
SELECT ARRAY[[1,2],[3,4]][2][1] + 0
SELECT t[1] || 1 FROM arr WHERE id = 1
SELECT ARRAY[2147483647] || 2147483648
SELECT pg_typeof(ARRAY[1] || 2147483648)
SELECT pg_typeof(ARRAY[0] || -2147483648)
# ---- json
SELECT j -> 'a' -> 1, j -> 'a' ->> 0, j #> '{a,2}', j -> 'b' ->> 'c' FROM js WHERE id = 1
SELECT j -> 0, j ->> 1, j -> -1, j - 0, j - -1 FROM js WHERE id = 2
SELECT jt -> 'a' -> 1 + 0 FROM js WHERE id = 1
SELECT (j -> 'a' ->> 1)::int + 1 FROM js WHERE id = 1
SELECT j -> '0' FROM js WHERE id = 1
SELECT (j ->> 1)::numeric * 1.5 FROM js WHERE id = 2
SELECT jsonb_build_object('x', 1 + 1, 'y', 2.50 * 1)
SELECT '{"a":5}'::jsonb -> 'a' = '5'::jsonb AND 5 > 4
SELECT j @? '$.a[*] ? (@ > 2)' FROM js WHERE id = 1
SELECT jsonb_path_query_array(j, '$.a[*] ? (@ > $x)', jsonb_build_object('x', 1 + 0)) FROM js WHERE id = 1
SELECT to_jsonb(1.50 + 0), to_json(2147483648 + 0), json_build_array(1 * -1, 0.10 + 0)
# ---- dates and intervals
SELECT d + 1, d - 1, d + 30, d - -1 FROM dt ORDER BY id
SELECT d - date '2020-01-01' + 0 FROM dt ORDER BY id
SELECT ts + interval '1 hour' * 2, ts - interval '1 day' * 1.5 FROM dt ORDER BY id
SELECT iv * 2, iv / 2, iv * -1, iv * 0.5 FROM dt ORDER BY id
SELECT tz + interval '1 minute' * 90 FROM dt ORDER BY id
SELECT date '2024-02-28' + 1, date '2024-12-31' + 1
SELECT '2024-01-31'::date + interval '1 month' * 1
SELECT extract(year FROM d) + 1, date_part('month', d) * 1 FROM dt ORDER BY id
SELECT make_date(2024, 1 + 1, 29) + 0
SELECT interval '1' day * 3, interval '2 hours' / 0
SELECT ts FROM dt WHERE ts > '2024-01-01'::timestamp - interval '1 day' * 1
SELECT '2024-01-01 00:00+00'::timestamptz + interval '1 hour' * 1
SELECT d + 2147483647 FROM dt WHERE id = 1
SELECT to_char(d + 1, 'YYYY-MM-DD') FROM dt ORDER BY id
SELECT age(date '2024-03-01', date '2024-01-01' + 1)
# ---- in / between / subqueries
SELECT id FROM t WHERE id IN (1, 2, 3) ORDER BY id
SELECT id FROM t WHERE id IN (1 + 1, 2 + 2) ORDER BY id
SELECT id FROM t WHERE id NOT IN (SELECT id * 2 FROM t) AND id < 8 ORDER BY id
SELECT id FROM t WHERE id BETWEEN 3 AND 5 ORDER BY id
SELECT id FROM t WHERE id BETWEEN -3 + 5 AND 5 - 1 ORDER BY id
SELECT id FROM t WHERE id BETWEEN SYMMETRIC 5 AND -2 + 4 ORDER BY id
SELECT id FROM t WHERE id NOT BETWEEN 2 AND 39 ORDER BY id
SELECT id FROM t WHERE id = (SELECT max(id) - 1 FROM t)
SELECT id, (SELECT count(*) FROM u WHERE u.t_id = t.id + 0) FROM t WHERE id < 4 ORDER BY id
SELECT id FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.t_id = t.id AND u.amt > 10) ORDER BY id
SELECT id FROM t WHERE a = ANY (ARRAY[1, 2]) AND id < 10 ORDER BY id
SELECT id FROM t WHERE a = ANY ('{1,2}') AND id < 10 ORDER BY id
SELECT id FROM t WHERE (a, id) > (3, 10) ORDER BY id LIMIT 3
SELECT id FROM t WHERE a IS DISTINCT FROM 3 AND id < 5 ORDER BY id
SELECT x FROM (SELECT id * 2 AS x FROM t WHERE id < 4) s WHERE x > 2 ORDER BY x
SELECT * FROM (VALUES (1, 'a'), (2, 'b')) v(n, s) ORDER BY n
SELECT * FROM (VALUES (1), (2.5), (-3)) v(n) ORDER BY n
SELECT * FROM (VALUES (2147483647), (2147483648)) v(n)
SELECT pg_typeof(n) FROM (VALUES (1), (2)) v(n)
SELECT pg_typeof(n) FROM (VALUES (-2147483648)) v(n)
SELECT pg_typeof(n) FROM (VALUES (2147483648), (-2147483648)) v(n)
VALUES (1, 2), (3, 4)
SELECT (VALUES (1))
SELECT (VALUES (1)) + 0
SELECT * FROM generate_series(1, 3) g(x) WHERE x > 1
SELECT x FROM generate_series(1, 10, 1 + 1) x
SELECT sum(x) FROM generate_series(1, 100) x WHERE x % 7 = 0
WITH c AS (SELECT id * 2 AS x FROM t WHERE id < 4) SELECT x + 1 FROM c ORDER BY x
WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT sum(n) FROM r
SELECT 1 + 1 UNION SELECT 2 + 1 ORDER BY 1
SELECT 1 UNION ALL SELECT -2147483648 ORDER BY 1
SELECT id FROM t WHERE id < 3 UNION SELECT id + 100 FROM t WHERE id < 3 ORDER BY 1
SELECT id FROM t t1 JOIN u ON u.t_id = t1.id + 1 WHERE u.id < 4 ORDER BY 1
SELECT count(*) FROM t LEFT JOIN u ON u.t_id = t.id AND u.amt > 5
SELECT s.x FROM t, LATERAL (SELECT t.id * 2 AS x) s WHERE t.id = 3
SELECT id FROM t TABLESAMPLE SYSTEM (100) REPEATABLE (1 + 1) WHERE id = 1
SELECT id FROM tv WHERE a2 > 7 ORDER BY id LIMIT 3
SELECT a2 * 2, c15 + 0.5 FROM tv WHERE id = 6
SELECT id FROM t WHERE a * 10 + 1 = 31 ORDER BY id
SELECT id FROM t WHERE a > 3 AND a < 5 ORDER BY id
SELECT count(*) FROM t WHERE sm = 5 OR sm = 32768
SELECT count(*) FROM t WHERE sm = 100000
SELECT count(*) FROM t WHERE b > 2147483648
SELECT count(*) FROM t WHERE b = 5000000000
SELECT count(*) FROM t WHERE c = 1.00
SELECT count(*) FROM t WHERE v = 'v1' OR length(v) > 4
SELECT id, s FROM t WHERE s = 'x' || 5
SELECT id FROM t WHERE id::text = '5' AND 1 = 1
SELECT 5 IS NULL, 5 IS NOT NULL AND 1 = 1
SELECT NOT 5 = 5
SELECT id FROM t WHERE a = 1 FOR UPDATE
SELECT (1, 2) = (1, 1 + 1)
SELECT ROW(1, 2 + 1)
SELECT 5 = ANY(ARRAY[1,5]), 5 > ALL(ARRAY[1,2]), 5 < SOME(ARRAY[1,6])
SELECT 1 = 1 OR 1 / 0 = 1
SELECT 'ok' WHERE 1 = 0 AND 1 / 0 = 1
SELECT current_setting('server_version_num')::int >= 180000
SELECT 1 OPERATOR(pg_catalog.+) 2
SELECT 1 OPERATOR(pg_catalog.-) -2147483648
SELECT cast(5 + 1 AS text), cast(-5 AS numeric(5,2)) * 1
SELECT 5::numeric(5, 2) + 1, 12.345::numeric(4, 1) * 1
SELECT 1::bit(4) | 3::bit(4)
SELECT '5'::int + 5, '5' + 5
SELECT 'abc' + 5
SELECT 3 = '3'
SELECT id FROM t WHERE s SIMILAR TO 'x1%' AND id < 15 ORDER BY id
SELECT 'a' COLLATE "C" < 'b' AND 1 = 1
SELECT m, p + 1, g - 1 FROM e ORDER BY id
SELECT id FROM e WHERE m > 'sad' AND p > 1
SELECT p * -1 FROM e ORDER BY id
SELECT m = 'ok' OR 1 = 0 FROM e ORDER BY id
SELECT 5::posint + 1
SELECT 0::posint + 1
SELECT identifier_that_is_definitely_longer_than_sixty_three_characters_in_total_xx + 1 FROM (SELECT 1 AS identifier_that_is_definitely_longer_than_sixty_three_characters_in_total_xx) s
SELECT 1 + 1 AS alias_that_is_definitely_longer_than_sixty_three_characters_in_total_xx
SELECT 1 + 1 AS "ALIAS_THAT_IS_DEFINITELY_LONGER_THAN_SIXTY_THREE_CHARACTERS_IN_TOTAL_XX"
# ---- DML
!DELETE FROM conf
INSERT INTO conf VALUES (1, 10, 'a') ON CONFLICT (k) DO UPDATE SET n = conf.n + 1 RETURNING k, n
INSERT INTO conf (k, n) VALUES (2, -5) ON CONFLICT (k) DO UPDATE SET n = conf.n * -1 RETURNING *
INSERT INTO conf (k, n) VALUES (3, 1) ON CONFLICT DO NOTHING RETURNING k
INSERT INTO conf (k, n) VALUES (4, 2147483647) ON CONFLICT (k) DO UPDATE SET n = conf.n - 1 RETURNING n
INSERT INTO conf (k, n) VALUES (5, 2147483648)
INSERT INTO conf (k, n) VALUES (6, 1.5) ON CONFLICT (k) DO UPDATE SET n = excluded.n + 1 RETURNING n
INSERT INTO conf (k, n, note) VALUES (7, 0, 5) ON CONFLICT (k) DO UPDATE SET note = conf.note || 1 RETURNING note
INSERT INTO conf (k, n) VALUES (8, 1), (9, 2) ON CONFLICT (k) DO UPDATE SET n = excluded.n * 10 RETURNING k, n
INSERT INTO conf (k) VALUES (10 + 0) ON CONFLICT (k) DO UPDATE SET n = conf.n + 1 RETURNING n
INSERT INTO conf (k, n) VALUES (11, DEFAULT) ON CONFLICT (k) DO UPDATE SET n = conf.n - -1 RETURNING n
INSERT INTO conf (k, n) SELECT 12, 5 ON CONFLICT (k) DO UPDATE SET n = conf.n + 5 RETURNING n
INSERT INTO conf (k, n) SELECT id + 100, a * 2 FROM t WHERE id < 3 ON CONFLICT (k) DO UPDATE SET n = excluded.n + conf.n RETURNING k, n
INSERT INTO conf (k, n) VALUES (13, -2147483648) ON CONFLICT (k) DO UPDATE SET n = conf.n + 1 RETURNING n
INSERT INTO conf (k, n) VALUES (14, +7) ON CONFLICT (k) DO UPDATE SET n = conf.n + 1 RETURNING n
INSERT INTO conf (k, note) VALUES (15, 1.50) ON CONFLICT (k) DO UPDATE SET note = conf.note || 'z' RETURNING note
INSERT INTO conf (k, n) VALUES ((SELECT max(k) + 1000 FROM conf), 1) RETURNING n
WITH x AS (INSERT INTO conf (k, n) VALUES (20, 1) ON CONFLICT (k) DO UPDATE SET n = conf.n + 1 RETURNING n) SELECT n * 2 FROM x
WITH x AS (SELECT 21 AS k) INSERT INTO conf (k, n) SELECT k, k * 2 FROM x ON CONFLICT (k) DO UPDATE SET n = conf.n + 1 RETURNING *
UPDATE conf SET n = n + 1 WHERE k = 1 RETURNING n
UPDATE conf SET n = n * -1, note = 'u' || 5 WHERE k = 2 RETURNING n, note
UPDATE conf SET n = u.id + 100 FROM u WHERE conf.k = u.id AND u.id = 3 RETURNING conf.n
UPDATE conf SET (n, note) = (n + 1, 'x') WHERE k = 3 RETURNING n
UPDATE conf SET (n, note) = (SELECT n + 1, 'y' FROM conf c2 WHERE c2.k = 3) WHERE k = 3 RETURNING n
WITH s AS (SELECT 1 AS k) UPDATE conf SET n = n + 10 FROM s WHERE conf.k = s.k + 0 RETURNING conf.n
UPDATE conf SET n = n + 1 WHERE k = 999
UPDATE conf SET n = 2147483647 + 1 WHERE k = 1
UPDATE conf SET n = n / 0 WHERE k = 999
UPDATE conf SET n = 1 / (n - n) WHERE k = 1
UPDATE e SET p = p + 1 WHERE id = 1 RETURNING g
UPDATE e SET p = p - 10 WHERE id = 1 RETURNING g
UPDATE e SET m = 'ok' WHERE id = 2 - 1 RETURNING m
INSERT INTO e (id, m, p) VALUES (3, 'ok', 3) RETURNING g * 1
INSERT INTO e (id, m, p) VALUES (4, 'meh', 3)
INSERT INTO e (id, m, p) VALUES (5, 'ok', -1)
INSERT INTO e (id, m, p, g) VALUES (6, 'ok', 1, 1)
INSERT INTO t (id, a, c) VALUES (100, 1, 1.005) ON CONFLICT (id) DO UPDATE SET c = excluded.c + 0.001 RETURNING c
INSERT INTO t (id, sm) VALUES (101, 32767) ON CONFLICT (id) DO UPDATE SET sm = t.sm - 1 RETURNING sm
INSERT INTO t (id, sm) VALUES (102, 32768)
INSERT INTO t (id, v) VALUES (103, 123456)
INSERT INTO t (id, v) VALUES (104, 12345) ON CONFLICT (id) DO UPDATE SET v = t.v || '' RETURNING v
INSERT INTO t (id, s) VALUES (105, 5) ON CONFLICT (id) DO UPDATE SET s = t.s || 'x' RETURNING s
INSERT INTO t (id, d) VALUES (106, 0.1) ON CONFLICT (id) DO UPDATE SET d = t.d + 0.1 RETURNING d
INSERT INTO t (id, b) VALUES (107, 9223372036854775807) ON CONFLICT (id) DO UPDATE SET b = t.b - 1 RETURNING b
INSERT INTO t (id, b) VALUES (108, -9223372036854775808) ON CONFLICT (id) DO UPDATE SET b = t.b + 1 RETURNING b
INSERT INTO t (id, c) VALUES (109, 123456789.123)
INSERT INTO t (id, c) VALUES (110, 1e3) ON CONFLICT (id) DO UPDATE SET c = t.c + 1 RETURNING c
INSERT INTO arr VALUES (3, ARRAY[1, -2], '{{1}}', '{}') RETURNING a[1 + 1]
INSERT INTO js VALUES (3, '{"k": 1}', '{}') RETURNING j -> 'k'
INSERT INTO dt VALUES (3, '2024-01-01'::date + 1, now()::timestamp(0) - now()::timestamp(0) + '2024-01-01', NULL, interval '1 day' * 2) RETURNING d, iv
DELETE FROM conf WHERE k = 999 RETURNING *
DELETE FROM conf WHERE k > 1000 RETURNING k - 1000
DELETE FROM arr WHERE id = 3 RETURNING a[1:2]
DELETE FROM js WHERE id = 3
DELETE FROM dt WHERE id = 3
DELETE FROM conf USING u WHERE conf.k = u.id + 100 AND u.id = 1 RETURNING conf.k
SELECT k, n, note FROM conf ORDER BY k
# ---- schema changes between runs
SELECT * FROM t WHERE id = 3
!ALTER TABLE t ADD COLUMN extra int DEFAULT 7
SELECT * FROM t WHERE id = 3
!ALTER TABLE t DROP COLUMN extra
SELECT * FROM t WHERE id = 3
!ALTER TABLE t ALTER COLUMN a TYPE bigint
SELECT a + 1, pg_typeof(a + 1) FROM t WHERE id = 3
SELECT * FROM t WHERE id = 3
!BEGIN
SELECT * FROM t WHERE id = 3
!ALTER TABLE t ADD COLUMN tx int
SELECT * FROM t WHERE id = 3
!ROLLBACK
SELECT * FROM t WHERE id = 3
!BEGIN
!ALTER TABLE t ADD COLUMN tx2 text DEFAULT 'q'
!COMMIT
SELECT * FROM t WHERE id = 3
!ALTER TABLE t DROP COLUMN tx2
SELECT * FROM tv WHERE id = 7
!CREATE OR REPLACE VIEW tv AS SELECT id, a * 2 + 1 AS a2, c * 1.5 AS c15, 0 AS z FROM t WHERE id > 5
SELECT * FROM tv WHERE id = 7
!DROP VIEW tv
SELECT * FROM tv WHERE id = 7
!CREATE VIEW tv AS SELECT id, s FROM t WHERE id > 1
SELECT * FROM tv WHERE id = 7
!DROP INDEX t_expr
SELECT id FROM t WHERE a * 10 + 1 = 31 ORDER BY id
!CREATE INDEX t_expr ON t ((a * 10 + 1))
SELECT id FROM t WHERE a * 10 + 1 = 31 ORDER BY id
!BEGIN
!DROP TABLE u
SELECT count(*) FROM u WHERE id > 1
!ROLLBACK
SELECT count(*) FROM u WHERE id > 1
!SAVEPOINT x
SELECT count(*) FROM u WHERE id > 1
!BEGIN
SELECT count(*) FROM u WHERE id > 1
!SAVEPOINT sp
!ALTER TABLE u ADD COLUMN q int
SELECT * FROM u WHERE id = 1
!ROLLBACK TO SAVEPOINT sp
SELECT * FROM u WHERE id = 1
!COMMIT
SELECT * FROM u WHERE id = 1
!BEGIN
SELECT * FROM u WHERE id = 1
SELECT 1 / 0 + id FROM u WHERE id = 1
SELECT * FROM u WHERE id = 1
!ROLLBACK
SELECT * FROM u WHERE id = 1
!SELECT 1 INTO TEMP tmp_x
SELECT * FROM u WHERE id = 1
!DROP TABLE tmp_x
SELECT * FROM u WHERE id = 1
# ---- settings that change how literals are read at parse time
SELECT '2024-01-01 00:00'::timestamptz + interval '1 hour' * 1
SELECT '01/02/2024'::date + 1
SELECT tz + interval '1 hour' * 0 FROM dt WHERE id = 1
!SET TimeZone = 'America/New_York'
SELECT '2024-01-01 00:00'::timestamptz + interval '1 hour' * 1
SELECT tz + interval '1 hour' * 0 FROM dt WHERE id = 1
!SET DateStyle = 'ISO, DMY'
SELECT '01/02/2024'::date + 1
!RESET ALL
!CREATE SCHEMA s2
!CREATE TABLE s2.u (x text, y text)
!INSERT INTO s2.u VALUES ('s2', 'row')
SELECT * FROM u WHERE 1 = 1 ORDER BY id LIMIT 1
!SET search_path = s2, public
SELECT * FROM u WHERE 1 = 1 ORDER BY id LIMIT 1
!RESET search_path
SELECT * FROM u WHERE 1 = 1 ORDER BY id LIMIT 1
