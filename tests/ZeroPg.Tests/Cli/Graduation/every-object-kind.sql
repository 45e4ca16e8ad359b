-- Every kind of object `zeropg dump` must carry to PostgreSQL 15, with data that is easy to get
-- wrong (NULLs, tabs, newlines, backslashes, Unicode, bytea, floats, time zones, large values).
CREATE EXTENSION pgcrypto;
CREATE EXTENSION citext;
CREATE EXTENSION hstore;

CREATE ROLE app_owner NOLOGIN;
CREATE ROLE app_reader LOGIN PASSWORD 'reader-secret';
CREATE ROLE app_writer NOLOGIN;
GRANT app_reader TO app_writer;

CREATE SCHEMA shop AUTHORIZATION app_owner;
COMMENT ON SCHEMA shop IS 'the shop; with ''quotes''';

CREATE TYPE shop.status AS ENUM ('new', 'paid', 'shipped', 'odd label with space');
CREATE DOMAIN shop.email AS citext CHECK (VALUE ~ '@');
CREATE TYPE shop.money_pair AS (amount numeric(12, 2), currency char(3));
CREATE TYPE shop.price_range AS RANGE (subtype = numeric);
CREATE COLLATION shop.c_collation (locale = 'C');

CREATE SEQUENCE shop.invoice_numbers START 1000 INCREMENT 7;

CREATE TABLE shop.customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email shop.email NOT NULL UNIQUE,
    name text COLLATE shop.c_collation,
    created timestamptz NOT NULL DEFAULT '2024-01-02 03:04:05+02',
    attributes hstore,
    profile jsonb,
    tags text[],
    email_hash text GENERATED ALWAYS AS (md5(lower(email::text))) STORED
);
COMMENT ON TABLE shop.customers IS 'customers';
COMMENT ON COLUMN shop.customers.email IS 'unique, case-insensitive';

CREATE TABLE shop.orders (
    id serial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES shop.customers (id) ON DELETE CASCADE,
    status shop.status NOT NULL DEFAULT 'new',
    total numeric(12, 2) CHECK (total >= 0),
    price shop.money_pair,
    valid shop.price_range,
    invoice integer DEFAULT nextval('shop.invoice_numbers'),
    weight double precision,
    note text,
    placed_at timestamp,
    duration interval,
    CONSTRAINT no_overlap EXCLUDE USING gist (valid WITH &&) WHERE (status = 'paid')
);
CREATE INDEX orders_open ON shop.orders (customer_id) WHERE status <> 'shipped';
CREATE INDEX orders_lower_note ON shop.orders (lower(left(note, 12)));
CREATE UNIQUE INDEX orders_invoice ON shop.orders (invoice) NULLS NOT DISTINCT;
ALTER TABLE shop.orders ALTER COLUMN note SET STATISTICS 500;
ALTER TABLE shop.orders ALTER COLUMN customer_id SET (n_distinct = 250);

CREATE TABLE shop.audit (at timestamptz DEFAULT now(), what text);
CREATE FUNCTION shop.audit_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO shop.audit (what) VALUES (TG_OP || ' ' || NEW.id);
    RETURN NEW;
END
$$;
CREATE TRIGGER orders_audit AFTER INSERT OR UPDATE ON shop.orders FOR EACH ROW EXECUTE FUNCTION shop.audit_order();

CREATE FUNCTION shop.order_count(c bigint) RETURNS bigint LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT count(*) FROM shop.orders WHERE customer_id = c;
END;
CREATE PROCEDURE shop.mark_paid(o integer) LANGUAGE sql AS $$ UPDATE shop.orders SET status = 'paid' WHERE id = o $$;
CREATE AGGREGATE shop.text_concat(text) (sfunc = textcat, stype = text, initcond = '');
CREATE FUNCTION shop.money_eq(shop.money_pair, shop.money_pair) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT $1.amount = $2.amount AND $1.currency = $2.currency';
CREATE OPERATOR shop.=== (leftarg = shop.money_pair, rightarg = shop.money_pair, function = shop.money_eq);
CREATE TEXT SEARCH CONFIGURATION shop.simple_english (COPY = pg_catalog.english);

CREATE VIEW shop.customer_totals AS
    SELECT c.email, count(o.id) AS orders, coalesce(sum(o.total), 0) AS total
    FROM shop.customers c LEFT JOIN shop.orders o ON o.customer_id = c.id GROUP BY c.email;
CREATE MATERIALIZED VIEW shop.status_counts AS SELECT status, count(*) AS n FROM shop.orders GROUP BY status;
CREATE INDEX ON shop.status_counts (status);

CREATE TABLE shop.events (id int, day date NOT NULL, payload text) PARTITION BY RANGE (day);
CREATE TABLE shop.events_2024 PARTITION OF shop.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE shop.events_rest PARTITION OF shop.events DEFAULT;
CREATE TABLE shop.base_item (id int NOT NULL, label text);
CREATE TABLE shop.special_item (extra text) INHERITS (shop.base_item);

ALTER TABLE shop.orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY reader_sees_paid ON shop.orders FOR SELECT TO app_reader USING (status = 'paid');

ALTER TABLE shop.customers OWNER TO app_owner;
ALTER TABLE shop.orders OWNER TO app_owner;
ALTER SEQUENCE shop.invoice_numbers OWNER TO app_owner;
GRANT USAGE ON SCHEMA shop TO app_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA shop TO app_reader;
GRANT SELECT (id, status), UPDATE (note) ON shop.orders TO app_writer;
GRANT SELECT, MAINTAIN ON shop.audit TO app_writer;
ALTER DEFAULT PRIVILEGES IN SCHEMA shop GRANT SELECT ON TABLES TO app_reader;

INSERT INTO shop.customers (email, name, attributes, profile, tags)
SELECT 'user' || g || '@Example.org', 'Ünïcødé ' || g || E' \\ tab\there', ('k=>' || g)::hstore,
       jsonb_build_object('n', g, 'nested', jsonb_build_array(g, null, 'x"y')), ARRAY['a', 'b;c', NULL, g::text]
FROM generate_series(1, 300) g;
INSERT INTO shop.customers (email, name) VALUES ('nulls@example.org', NULL);
INSERT INTO shop.orders (customer_id, status, total, price, valid, weight, note, placed_at, duration)
SELECT (g % 300) + 1, (ARRAY['new', 'paid', 'shipped', 'odd label with space'])[g % 4 + 1]::shop.status, g * 1.25,
       ROW(g * 1.25, 'EUR')::shop.money_pair, CASE WHEN g % 4 = 1 THEN shop.price_range(g, g + 1) END,
       CASE g % 5 WHEN 0 THEN 'NaN'::float8 WHEN 1 THEN 'Infinity' WHEN 2 THEN 1e-300 ELSE g / 3.0 END,
       E'line one\nline two\r\n\\.\ttabbed ' || repeat('x', g % 7), '2024-02-29 23:59:59.123456', make_interval(days => g, secs => g / 7.0)
FROM generate_series(1, 2000) g;
INSERT INTO shop.orders (customer_id, note) VALUES (1, repeat('large toasted value ', 20000));
CALL shop.mark_paid(3);
SELECT nextval('shop.invoice_numbers') FROM generate_series(1, 5);
REFRESH MATERIALIZED VIEW shop.status_counts;
INSERT INTO shop.events SELECT g, DATE '2023-12-25' + g, 'event ' || g FROM generate_series(1, 400) g;
INSERT INTO shop.base_item VALUES (1, 'base');
INSERT INTO shop.special_item VALUES (2, 'special', 'extra');
CREATE TABLE public.empty_table (id int);
CREATE SEQUENCE public.never_used;
CREATE UNLOGGED TABLE public.scratch (k text PRIMARY KEY, v text);
INSERT INTO public.scratch VALUES ('a', 'b');
