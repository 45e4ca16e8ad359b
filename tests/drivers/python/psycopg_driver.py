"""Python psycopg 3 (Debian python3-psycopg) against a Postgres server, with server-side prepares.

Usage: python3 psycopg_driver.py <postgres-url> <case>. Prints one line per result (the same on every correct server);
exits 1 with "FAIL: ..." on stderr when a check fails. With prepare_threshold=0 psycopg prepares every query at once,
naming statements _pg3_0, _pg3_1, ... per connection; past prepared_max it evicts the oldest with SQL
"DEALLOCATE _pg3_N", sent before the next query.
"""
import asyncio
import datetime
import decimal
import sys
import uuid

import psycopg
from psycopg.types.json import Json, Jsonb


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def check(ok, message):
    if not ok:
        fail(message)


def describe(error):
    if isinstance(error, psycopg.Error) and error.diag.sqlstate:
        return f"ERROR {error.diag.sqlstate} {error.diag.message_primary}"
    return f"{type(error).__name__}: {error}"


async def connect(url, **kwargs):
    conn = await psycopg.AsyncConnection.connect(url, **kwargs)
    conn.prepare_threshold = 0
    return conn


async def prepare_concurrently(url):
    rounds = 25

    async def client(c):
        # Same query order on every connection: each names its statements _pg3_0 and _pg3_1.
        async with await connect(url, autocommit=True) as conn:
            for i in range(rounds):
                n = (await (await conn.execute("select %s::int * 2", (i,))).fetchone())[0]
                check(n == i * 2, f"client {c} same {i}: {n!r}")
                s = (await (await conn.execute(f"select 'client{c}:' || %s::text", (str(i),))).fetchone())[0]
                check(s == f"client{c}:{i}", f"client {c} mine {i}: {s!r}")

    await asyncio.gather(*(client(c) for c in range(4)))
    print(f"prepare: 4 connections x {rounds} rounds ok")


async def transaction_with_error(url):
    async with await connect(url, autocommit=True) as conn:
        await conn.execute("drop table if exists drv_psycopg", prepare=False)
        await conn.execute("create table drv_psycopg (id int primary key, v text)", prepare=False)
        try:
            async with conn.transaction():
                await conn.execute("insert into drv_psycopg values (%s, %s)", (1, "a"))
                try:
                    await conn.execute("insert into drv_psycopg values (%s, %s)", (1, "b"))
                    fail("duplicate key did not fail")
                except psycopg.Error as e:
                    print("duplicate insert:", describe(e))
                try:
                    await conn.execute("select %s::int", (1,))
                    fail("statement in an aborted transaction did not fail")
                except psycopg.Error as e:
                    print("statement after error:", describe(e))
                raise psycopg.Rollback()
        except psycopg.Error as e:
            fail(f"rollback: {describe(e)}")
        n = (await (await conn.execute("select count(*) from drv_psycopg")).fetchone())[0]
        print("rows after rollback:", n)
        check(n == 0, "rolled back insert is visible")
        try:
            await conn.execute("select 1 / %s::int", (0,))
        except psycopg.Error as e:
            print("division by zero:", describe(e))
        print("after error:", (await (await conn.execute("select %s::int + 1", (41,))).fetchone())[0])
        await conn.execute("drop table drv_psycopg")


async def copy_in_and_out(url):
    async with await connect(url, autocommit=True) as conn:
        await conn.execute("drop table if exists drv_psycopg_copy", prepare=False)
        await conn.execute("create table drv_psycopg_copy (id int, name text, amount numeric)", prepare=False)
        async with conn.cursor() as cur:
            async with cur.copy("copy drv_psycopg_copy (id, name, amount) from stdin") as copy:
                await copy.write_row((1, "one", decimal.Decimal("1.5")))
                await copy.write_row((2, "zß€😀", None))
                await copy.write("3\ttab\\there\t-0.001\n")
            print("copy from:", cur.rowcount)
            # A COPY that fails on bad data: the error comes back, the connection goes on.
            try:
                async with cur.copy("copy drv_psycopg_copy from stdin") as copy:
                    await copy.write("x\tbad\t1\n")
                fail("bad copy data did not fail")
            except psycopg.Error as e:
                print("bad copy:", describe(e))
            async with cur.copy("copy (select * from drv_psycopg_copy order by id) to stdout") as copy:
                async for row in copy.rows():
                    print("copy to:", row)
        await conn.execute("drop table drv_psycopg_copy")


async def listen_notify(url):
    async with await connect(url, autocommit=True) as listener, await connect(url, autocommit=True) as notifier:
        await listener.execute("listen drv_psycopg_chan")
        await notifier.execute("select pg_notify(%s, %s)", ("drv_psycopg_chan", "héllo ü"))
        await notifier.execute("notify drv_psycopg_chan, 'second'")
        got = []

        async def receive():
            async for n in listener.notifies():
                got.append(n)
                if len(got) == 2:
                    break

        try:
            await asyncio.wait_for(receive(), 10)
        except asyncio.TimeoutError:
            fail(f"got {len(got)} notifications within 10 s, want 2")
        for n in got:
            from_notifier = n.pid == notifier.info.backend_pid
            print(f"notification: channel={n.channel} payload={n.payload} from-notifier={from_notifier}")
            check(from_notifier, f"notification pid {n.pid} is not the notifier's {notifier.info.backend_pid}")
        await listener.execute("unlisten drv_psycopg_chan")


async def type_round_trips(url):
    async with await connect(url, autocommit=True) as conn:
        await conn.execute("set time zone 'UTC'")
        values = [
            -2147483648, 9223372036854775807, decimal.Decimal("12345678901234567890.0123456789"), "zß€😀 'q' \"d\"",
            b"\x00\xff\\'", True, datetime.date(1999, 12, 31),
            datetime.datetime(2024, 2, 29, 12, 34, 56, 789012, tzinfo=datetime.timezone.utc),
            uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), Json({"a": [1, 2.5, "x"]}), Jsonb({"b": 1, "a": "ü"}),
            [1, -2, 3], ["a", "b c", "ü", "", "NULL", None], None,
        ]
        for binary in (False, True):
            cur = conn.cursor(binary=binary)
            await cur.execute(
                "select %s::int4 as int4, %s::int8 as int8, %s::numeric as numeric, %s::text as text, %s::bytea as bytea,"
                " %s::bool as bool, %s::date as date, %s::timestamptz as timestamptz, %s::uuid as uuid, %s::json as json,"
                " %s::jsonb as jsonb, %s::int4[] as int4s, %s::text[] as texts, %s::int4 as null", values)
            row = await cur.fetchone()
            print(f"-- {'binary' if binary else 'text'} results")
            for column, value in zip(cur.description, row):
                value = value.astimezone(datetime.timezone.utc) if isinstance(value, datetime.datetime) else value
                print(f"{column.name}: {value.hex() if isinstance(value, bytes) else repr(value)}")
            check(row[0] == -2147483648 and row[1] == 9223372036854775807 and row[2] == values[2], "numbers changed")
            check(row[3] == values[3] and row[4] == values[4] and row[5] is True, "text/bytea/bool changed")
            check(row[7] == values[7] and row[8] == values[8] and row[13] is None, "timestamptz/uuid/NULL changed")


async def statement_cache_eviction(url):
    async with await connect(url) as conn:
        conn.prepared_max = 2
        queries = ["select %s::int + 1", "select %s::int + 2", "select %s::int + 3"]
        for round in range(7):
            # autocommit off: from the first query on, everything runs in one transaction, as psycopg does by default.
            for q, sql in enumerate(queries):
                try:
                    n = (await (await conn.execute(sql, (round * 10,))).fetchone())[0]
                except psycopg.Error as e:
                    fail(f"round {round} query {q + 1}: {describe(e)}")
                check(n == round * 10 + q + 1, f"round {round} query {q + 1}: {n!r}")
        await conn.commit()
        names = await (await conn.execute("select name from pg_prepared_statements order by name", prepare=False)).fetchall()
        print(f"evict: 7 rounds x 3 queries ok; prepared statements: {[r[0] for r in names]}")
        check(len(names) == 2, f"pg_prepared_statements has {len(names)} rows, prepared_max is 2")


async def named_cursors(url):
    """psycopg 3 server-side cursors: DECLARE, then a protocol Describe of the portal by its name, FETCH, MOVE, CLOSE."""
    async with await connect(url, autocommit=True) as setup:
        await setup.execute("drop table if exists drv_psycopg_cur", prepare=False)
        await setup.execute("create table drv_psycopg_cur as select g as id, 'row' || g as v from generate_series(1, 250) g", prepare=False)

    async def reader(c):
        # Two connections at once, each with a cursor named "c": each reads its own.
        async with await connect(url) as conn:
            async with conn.cursor(name="c") as cur:
                await cur.execute("select id, v from drv_psycopg_cur where id %% 2 = %s order by id", (c,))
                check([d.name for d in cur.description] == ["id", "v"], f"description {cur.description}")
                total, batches = 0, 0
                while rows := await cur.fetchmany(40):
                    total += sum(r[0] for r in rows)
                    batches += 1
            await conn.commit()
            return f"cursor c on connection {c}: {batches} batches, sum {total}"

    for line in await asyncio.gather(reader(0), reader(1)):
        print(line)

    async with await connect(url) as conn:
        # Scrollable: back and forth by absolute and relative positions.
        async with conn.cursor(name="scroller", scrollable=True) as cur:
            await cur.execute("select id from drv_psycopg_cur order by id")
            first = await cur.fetchmany(3)
            await cur.scroll(100, mode="absolute")
            at = await cur.fetchone()
            await cur.scroll(-10)
            back = await cur.fetchone()
            print("scrollable:", [r[0] for r in first], at[0], back[0])
        await conn.commit()

    async with await connect(url, autocommit=True) as conn:
        # WITH HOLD outside a transaction: the cursor outlives its DECLARE's transaction.
        cur = conn.cursor(name="held", withhold=True)
        await cur.execute("select id, v from drv_psycopg_cur where id <= %s order by id", (5,))
        await conn.execute("select 1")  # another statement between the fetches
        rows = await cur.fetchall()
        print("with hold:", rows)
        names = await (await conn.execute("select name, is_holdable from pg_cursors order by name", prepare=False)).fetchall()
        print("pg_cursors:", names)
        await cur.close()
        names = await (await conn.execute("select count(*) from pg_cursors", prepare=False)).fetchone()
        print("pg_cursors after close:", names[0])
        # A cursor by a name the client does not hold.
        try:
            await conn.execute('fetch 1 from "nosuch"', prepare=False)
            fail("fetch from a missing cursor did not fail")
        except psycopg.Error as e:
            print("missing cursor:", describe(e))


CASES = {
    "prepare": prepare_concurrently,
    "txerror": transaction_with_error,
    "copy": copy_in_and_out,
    "notify": listen_notify,
    "types": type_round_trips,
    "evict": statement_cache_eviction,
    "cursors": named_cursors,
}

if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[2] not in CASES:
        fail(f"usage: psycopg_driver.py <postgres-url> <{'|'.join(CASES)}>")
    try:
        asyncio.run(CASES[sys.argv[2]](sys.argv[1]))
    except psycopg.Error as e:
        fail(describe(e))
