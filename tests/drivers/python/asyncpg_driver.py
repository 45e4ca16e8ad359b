"""Python asyncpg (Debian python3-asyncpg) against a Postgres server.

Usage: python3 asyncpg_driver.py <postgres-url> <case>. Prints one line per result (the same on every correct server);
exits 1 with "FAIL: ..." on stderr when a check fails. asyncpg prepares every query (its statement cache, names
__asyncpg_stmt_N__) and closes evicted statements with the protocol's Close message.
"""
import asyncio
import datetime
import decimal
import sys
import uuid

import asyncpg


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def check(ok, message):
    if not ok:
        fail(message)


def describe(error):
    if isinstance(error, asyncpg.PostgresError):
        return f"ERROR {error.sqlstate} {error.args[0] if error.args else error}"
    return f"{type(error).__name__}: {error}"


async def prepare_concurrently(url):
    rounds = 25

    async def client(c):
        conn = await asyncpg.connect(url)
        try:
            same = await conn.prepare("select $1::int * 2", name="same")
            mine = await conn.prepare(f"select 'client{c}:' || $1::text", name="mine")
            for i in range(rounds):
                n = await same.fetchval(i)
                check(n == i * 2, f"client {c} same {i}: {n!r}")
                s = await mine.fetchval(str(i))
                check(s == f"client{c}:{i}", f"client {c} mine {i}: {s!r}")
                # asyncpg's own statement cache, one name per connection for the same text.
                n = await conn.fetchval("select $1::int + $2::int", c, i)
                check(n == c + i, f"client {c} cached {i}: {n!r}")
        finally:
            await conn.close()

    await asyncio.gather(*(client(c) for c in range(4)))
    print(f"prepare: 4 connections x {rounds} rounds ok")


async def transaction_with_error(url):
    conn = await asyncpg.connect(url)
    await conn.execute("drop table if exists drv_asyncpg; create table drv_asyncpg (id int primary key, v text)")
    tx = conn.transaction()
    await tx.start()
    await conn.execute("insert into drv_asyncpg values ($1, $2)", 1, "a")
    try:
        await conn.execute("insert into drv_asyncpg values ($1, $2)", 1, "b")
        fail("duplicate key did not fail")
    except asyncpg.PostgresError as e:
        print("duplicate insert:", describe(e))
    try:
        await conn.fetchval("select $1::int", 1)
        fail("statement in an aborted transaction did not fail")
    except asyncpg.PostgresError as e:
        print("statement after error:", describe(e))
    await tx.rollback()
    n = await conn.fetchval("select count(*) from drv_asyncpg")
    print("rows after rollback:", n)
    check(n == 0, "rolled back insert is visible")
    try:
        await conn.fetchval("select 1 / $1::int", 0)
    except asyncpg.PostgresError as e:
        print("division by zero:", describe(e))
    print("after error:", await conn.fetchval("select $1::int + 1", 41))
    await conn.execute("drop table drv_asyncpg")
    await conn.close()


async def copy_in_and_out(url):
    conn = await asyncpg.connect(url)
    await conn.execute("drop table if exists drv_asyncpg_copy; create table drv_asyncpg_copy (id int, name text, amount numeric)")
    # copy_records_to_table: COPY ... FROM STDIN (FORMAT binary); copy_to_table: text data.
    status = await conn.copy_records_to_table(
        "drv_asyncpg_copy", records=[(1, "one", decimal.Decimal("1.5")), (2, "zß€😀", None)])
    print("copy records:", status)

    class Lines:
        def __init__(self, data):
            self.data = [data]

        def __aiter__(self):
            return self

        async def __anext__(self):
            if not self.data:
                raise StopAsyncIteration
            return self.data.pop()

    status = await conn.copy_to_table("drv_asyncpg_copy", source=Lines("3\ttab\\there\t-0.001\n".encode()))
    print("copy text:", status)
    chunks = []

    async def sink(chunk):
        chunks.append(chunk)

    status = await conn.copy_from_query("select * from drv_asyncpg_copy order by id", output=sink)
    print("copy out:", status)
    for line in b"".join(chunks).decode().splitlines():
        print("copy to:", line)
    await conn.execute("drop table drv_asyncpg_copy")
    await conn.close()


async def listen_notify(url):
    listener = await asyncpg.connect(url)
    notifier = await asyncpg.connect(url)
    got = asyncio.Queue()
    await listener.add_listener("drv_asyncpg_chan", lambda conn, pid, channel, payload: got.put_nowait((pid, channel, payload)))
    await notifier.execute("select pg_notify($1, $2)", "drv_asyncpg_chan", "héllo ü")
    await notifier.execute("notify drv_asyncpg_chan, 'second'")
    for _ in range(2):
        try:
            pid, channel, payload = await asyncio.wait_for(got.get(), 10)
        except asyncio.TimeoutError:
            fail("no notification within 10 s")
        from_notifier = pid == notifier.get_server_pid()
        print(f"notification: channel={channel} payload={payload} from-notifier={from_notifier}")
        check(from_notifier, f"notification pid {pid} is not the notifier's {notifier.get_server_pid()}")
    await listener.remove_listener("drv_asyncpg_chan", lambda *a: None)
    await listener.close()
    await notifier.close()


async def type_round_trips(url):
    conn = await asyncpg.connect(url)
    await conn.execute("set time zone 'UTC'")
    await conn.set_type_codec("json", encoder=lambda v: v, decoder=lambda v: v, schema="pg_catalog")
    values = [
        -2147483648, 9223372036854775807, decimal.Decimal("12345678901234567890.0123456789"), "zß€😀 'q' \"d\"",
        b"\x00\xff\\'", True, datetime.date(1999, 12, 31),
        datetime.datetime(2024, 2, 29, 12, 34, 56, 789012, tzinfo=datetime.timezone.utc),
        uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), '{"a": [1, 2.5, "x"]}', '{"b": 1, "a": "ü"}',
        [1, -2, 3], ["a", "b c", "ü", "", "NULL", None], None,
    ]
    row = await conn.fetchrow(
        "select $1::int4 as int4, $2::int8 as int8, $3::numeric as numeric, $4::text as text, $5::bytea as bytea,"
        " $6::bool as bool, $7::date as date, $8::timestamptz as timestamptz, $9::uuid as uuid, $10::json as json,"
        " $11::jsonb as jsonb, $12::int4[] as int4s, $13::text[] as texts, $14::int4 as null", *values)
    for name, value in row.items():
        print(f"{name}: {value.hex() if isinstance(value, bytes) else repr(value)}")
    for name, sent, got in zip(row.keys(), values, row.values()):
        if name != "jsonb":
            check(sent == got, f"{name} changed: sent {sent!r}, got {got!r}")
    await conn.close()


async def statement_cache_eviction(url):
    conn = await asyncpg.connect(url, statement_cache_size=2)
    queries = ["select $1::int + 1", "select $1::int + 2", "select $1::int + 3"]
    for round in range(7):
        if round == 4:
            tx = conn.transaction()
            await tx.start()
        for q, sql in enumerate(queries):
            n = await conn.fetchval(sql, round * 10)
            check(n == round * 10 + q + 1, f"round {round} query {q + 1}: {n!r}")
    await tx.commit()
    # (pg_prepared_statements is compared by the Go pgx and raw-protocol tests.)
    print("evict: 7 rounds x 3 queries ok (4 in a transaction)")
    await conn.close()


CASES = {
    "prepare": prepare_concurrently,
    "txerror": transaction_with_error,
    "copy": copy_in_and_out,
    "notify": listen_notify,
    "types": type_round_trips,
    "evict": statement_cache_eviction,
}

if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[2] not in CASES:
        fail(f"usage: asyncpg_driver.py <postgres-url> <{'|'.join(CASES)}>")
    try:
        asyncio.run(CASES[sys.argv[2]](sys.argv[1]))
    except (asyncpg.PostgresError, OSError) as e:
        fail(describe(e))
