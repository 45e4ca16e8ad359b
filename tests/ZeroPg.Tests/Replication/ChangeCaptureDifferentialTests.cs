using Npgsql;
using Xunit.Abstractions;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Replication;

/// <summary>
/// Issue 13's change-capture differential: the same workload on native PostgreSQL 15 (wal_level=logical) and on ZeroPg, decoded
/// to pgoutput and compared message by message (<see cref="PgOutputText"/>: LSNs, xids, times and OIDs aside). Postgres's side
/// is pg_logical_slot_peek_binary_changes; ZeroPg's is the same function (its SQL-level decoder) and its walsender's stream
/// (START_REPLICATION read through Npgsql's raw XLogData API), so both of ZeroPg's encoders answer to Postgres.
/// </summary>
[Trait("Category", "Slow")]
public sealed class ChangeCaptureDifferentialTests(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>Inserts, updates with and without a key change, deletes, REPLICA IDENTITY FULL and NOTHING (published for inserts
    /// only: Postgres refuses UPDATE/DELETE on it otherwise), enums (two columns: two Type messages), arrays, numeric typmods,
    /// generated columns, quoting, a multi-statement transaction with a message inside, a rolled-back one, transactional and
    /// non-transactional messages, a prepared transaction committed after another transaction and one rolled back, TRUNCATE of two tables with RESTART IDENTITY, with CASCADE, and plain, a publication's
    /// column list (a text and an enum column left out), and row filters: two publications' filters OR-ed for inserts, updates
    /// turned into inserts and deletes when a row enters or leaves the filter (a key change, REPLICA IDENTITY FULL), a NULL
    /// result, and rows that never pass; partitioned tables published via their root (a partition with its columns in another
    /// order, a row moved between partitions, TRUNCATE of the root and of a partition, a partition created later, a column added to the root) and as
    /// their partitions.</summary>
    private const string Workload = """
        SET TimeZone = 'UTC';
        CREATE TYPE mood AS ENUM ('sad', 'happy');
        CREATE TABLE items (id int PRIMARY KEY, name text, qty int, price numeric(10,2), tags text[], created timestamptz, m mood, m2 mood, note varchar(20));
        CREATE TABLE full_t (id int, v text, b bytea);
        ALTER TABLE full_t REPLICA IDENTITY FULL;
        CREATE TABLE parent (id int PRIMARY KEY);
        CREATE TABLE child (id serial PRIMARY KEY, pid int REFERENCES parent);
        CREATE TABLE nothing_t (id int, v text);
        ALTER TABLE nothing_t REPLICA IDENTITY NOTHING;
        CREATE TABLE gen_t (id int PRIMARY KEY, a int, doubled int GENERATED ALWAYS AS (a * 2) STORED);
        CREATE TABLE unpublished (id int);
        CREATE TABLE cols_t (id int PRIMARY KEY, a text, secret text, m mood, m2 mood, b int);
        CREATE PUBLICATION pub FOR TABLE items, full_t, parent, child, gen_t;
        CREATE PUBLICATION pub_ins FOR TABLE nothing_t WITH (publish = 'insert');
        CREATE PUBLICATION pub_cols FOR TABLE cols_t (id, a, m2, b);
        CREATE TABLE rows_t (id int PRIMARY KEY, region text, v int);
        CREATE TABLE rows_full (id int, region text, v int);
        ALTER TABLE rows_full REPLICA IDENTITY FULL;
        CREATE PUBLICATION pub_rows FOR TABLE rows_t WHERE (id > 10), rows_full WHERE (region = 'eu' AND v < 100);
        CREATE PUBLICATION pub_rows_ins FOR TABLE rows_t WHERE (v = 99) WITH (publish = 'insert');
        CREATE TABLE parted (id int, region text, v int, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
        CREATE TABLE parted_eu PARTITION OF parted FOR VALUES IN ('eu');
        CREATE TABLE parted_us (v int, region text, id int, PRIMARY KEY (id, region));
        ALTER TABLE parted ATTACH PARTITION parted_us FOR VALUES IN ('us');
        CREATE TABLE leafed (id int PRIMARY KEY, v text) PARTITION BY RANGE (id);
        CREATE TABLE leafed_low PARTITION OF leafed FOR VALUES FROM (0) TO (100);
        CREATE PUBLICATION pub_root FOR TABLE parted WHERE (id < 50) WITH (publish_via_partition_root = true);
        CREATE PUBLICATION pub_leaf FOR TABLE leafed;
        SELECT slot_name FROM pg_create_logical_replication_slot('diff', 'pgoutput');
        INSERT INTO items VALUES (1, 'a', 1, 1.5, '{x,"y z"}', '2024-01-02 03:04:05.678+00', 'happy', 'sad', 'v'), (2, NULL, 2, NULL, NULL, NULL, NULL, NULL, ''),
            (3, 'quote"back\slash, (paren)', 3, -0.01, '{}', '1999-12-31 23:59:59+00', 'sad', 'sad', 'n');
        UPDATE items SET qty = 5 WHERE id = 1;
        UPDATE items SET id = 4 WHERE id = 2;
        DELETE FROM items WHERE id = 1;
        INSERT INTO full_t VALUES (1, 'x', '\x00ff'), (2, NULL, NULL);
        UPDATE full_t SET v = 'y' WHERE id = 1;
        DELETE FROM full_t WHERE id = 2;
        INSERT INTO unpublished VALUES (1);
        BEGIN;
        INSERT INTO items VALUES (10, 'tx', 10, 10, NULL, NULL, NULL, NULL, NULL);
        INSERT INTO unpublished VALUES (2);
        UPDATE items SET name = 'tx2' WHERE id = 10;
        SELECT pg_logical_emit_message(true, 'p', 'in-tx');
        DELETE FROM items WHERE id = 3;
        COMMIT;
        BEGIN;
        INSERT INTO items VALUES (20, 'rolled back', 20, 20, NULL, NULL, NULL, NULL, NULL);
        ROLLBACK;
        SELECT pg_logical_emit_message(false, 'p', 'loose');
        SELECT pg_logical_emit_message(true, 'p', convert_to('alone', 'UTF8'));
        INSERT INTO gen_t (id, a) VALUES (1, 21);
        UPDATE gen_t SET a = 22;
        INSERT INTO cols_t VALUES (1, 'a', 'hidden', 'sad', 'happy', 1), (2, 'b', 'hidden too', NULL, NULL, 2);
        UPDATE cols_t SET secret = 'changed', a = 'a2' WHERE id = 1;
        UPDATE cols_t SET id = 3 WHERE id = 2;
        DELETE FROM cols_t WHERE id = 1;
        INSERT INTO rows_t VALUES (5, 'a', 1), (15, 'b', 2), (3, 'c', 99);
        UPDATE rows_t SET v = 3 WHERE id = 15;
        UPDATE rows_t SET v = 98 WHERE id = 3;
        UPDATE rows_t SET id = 20 WHERE id = 5;
        UPDATE rows_t SET id = 8 WHERE id = 15;
        UPDATE rows_t SET id = 1 WHERE id = 8;
        DELETE FROM rows_t WHERE id IN (1, 20);
        INSERT INTO rows_full VALUES (1, 'eu', 50), (2, 'us', 50), (3, 'eu', NULL);
        UPDATE rows_full SET v = 150 WHERE id = 1;
        UPDATE rows_full SET region = 'eu' WHERE id = 2;
        UPDATE rows_full SET v = v + 1 WHERE region = 'eu';
        DELETE FROM rows_full WHERE id IN (1, 2);
        INSERT INTO parted VALUES (1, 'eu', 1), (2, 'us', 2), (60, 'us', 3);
        UPDATE parted SET v = 5 WHERE id = 2;
        UPDATE parted SET region = 'us' WHERE id = 1;
        DELETE FROM parted WHERE id = 2;
        TRUNCATE parted;
        INSERT INTO parted VALUES (3, 'eu', 3);
        TRUNCATE parted_eu;
        CREATE TABLE parted_asia PARTITION OF parted FOR VALUES IN ('asia');
        INSERT INTO parted VALUES (4, 'asia', 4);
        ALTER TABLE parted ADD COLUMN note text;
        INSERT INTO parted VALUES (5, 'eu', 5, 'added');
        INSERT INTO leafed VALUES (1, 'a');
        UPDATE leafed SET v = 'b';
        CREATE TABLE leafed_high PARTITION OF leafed FOR VALUES FROM (100) TO (200);
        INSERT INTO leafed VALUES (150, 'c');
        TRUNCATE leafed;
        INSERT INTO parent VALUES (1), (2);
        INSERT INTO child (pid) VALUES (1), (2);
        TRUNCATE parent, child RESTART IDENTITY;
        INSERT INTO parent VALUES (3);
        INSERT INTO child (pid) VALUES (3);
        TRUNCATE parent CASCADE;
        TRUNCATE full_t;
        INSERT INTO nothing_t VALUES (1, 'a');
        UPDATE nothing_t SET v = 'b';
        DELETE FROM nothing_t;
        BEGIN;
        INSERT INTO items VALUES (30, 'prepared', 30, 30, NULL, NULL, NULL, NULL, NULL);
        UPDATE items SET qty = 31 WHERE id = 10;
        SELECT pg_logical_emit_message(true, 'p', 'in a prepared transaction');
        PREPARE TRANSACTION 'diff_prepared';
        INSERT INTO items VALUES (31, 'after the prepare', 31, 31, NULL, NULL, NULL, NULL, NULL);
        BEGIN;
        INSERT INTO items VALUES (32, 'prepared, rolled back', 32, 32, NULL, NULL, NULL, NULL, NULL);
        PREPARE TRANSACTION 'diff_rolled_back';
        ROLLBACK PREPARED 'diff_rolled_back';
        COMMIT PREPARED 'diff_prepared';
        INSERT INTO items VALUES (33, 'after the commit', 33, 33, NULL, NULL, NULL, NULL, NULL);
        SELECT pg_logical_emit_message(true, 'end', 'done');
        """;

    private readonly ReferencePair _servers = new(["max_prepared_transactions=5"], new ZeroPgOptions { PostgresSettings = { ["max_prepared_transactions"] = "5" } }, commandTimeoutSeconds: 60);

    public Task InitializeAsync() => _servers.StartAsync();

    public Task DisposeAsync() => _servers.StopAsync();

    [Fact]
    public async Task The_same_workload_decodes_to_the_same_pgoutput_messages_on_postgres_15_and_zeropg()
    {
        var postgres = _servers.Postgres;
        var zeropg = _servers.ZeroPg;
        await RunWorkloadAsync(postgres);
        await RunWorkloadAsync(zeropg);

        const string text = "'proto_version', '1', 'publication_names', 'pub,pub_ins,pub_cols,pub_rows,pub_rows_ins,pub_root,pub_leaf', 'messages', 'true'";
        var expected = new PgOutputText().Describe(await PeekAsync(postgres, text));
        output.WriteLine(string.Join("\n", expected));
        Assert.Contains("T options=2 [parent, child]", expected); // the workload did what it says on Postgres
        Assert.Contains("T options=1 [parent, child]", expected);
        Assert.DoesNotContain(expected, m => m.Contains("hidden", StringComparison.Ordinal)); // a column list leaves a column out
        Assert.Contains("I rows_t N[t:20, t:a, t:1]", expected); // an UPDATE into the row filter goes out as an INSERT...
        Assert.Contains("D rows_t K[t:15, n, n]", expected); // ... out of it as a DELETE
        Assert.DoesNotContain(expected, m => m.StartsWith("I rows_t N[t:5,", StringComparison.Ordinal));
        Assert.Contains("I parted N[t:2, t:us, t:2]", expected); // a partition's row in its root's column order, under the root
        Assert.Contains("R public.parted_us d [0:v:23:-1, 1:region:25:-1, 1:id:23:-1]", expected); // ... after the partition's own Relation
        Assert.Contains("I leafed_high N[t:150, t:c]", expected); // a partition made later, published as itself
        Assert.Contains("I parted N[t:5, t:eu, t:5, t:added]", expected);
        // A prepared transaction goes out at its COMMIT PREPARED, after what committed since its PREPARE; a rolled-back one not at all.
        Assert.True(expected.FindIndex(m => m.StartsWith("I items N[t:31,", StringComparison.Ordinal))
            < expected.FindIndex(m => m.StartsWith("I items N[t:30,", StringComparison.Ordinal)), "the prepared transaction's insert came first");
        Assert.DoesNotContain(expected, m => m.StartsWith("I items N[t:32,", StringComparison.Ordinal));
        output.WriteLine(string.Join("\n", expected.Where(m => m.Contains("parted", StringComparison.Ordinal) || m.Contains("leafed", StringComparison.Ordinal))));

        Assert.Equal(expected, new PgOutputText().Describe(await PeekAsync(zeropg, text)));
        Assert.Equal(expected, new PgOutputText().Describe(await StreamAsync(zeropg, binary: false)));

        const string binary = "'proto_version', '3', 'publication_names', 'pub,pub_ins,pub_cols,pub_rows,pub_rows_ins,pub_root,pub_leaf', 'messages', 'true', 'binary', 'true'";
        var expectedBinary = new PgOutputText().Describe(await PeekAsync(postgres, binary));
        Assert.Contains(expectedBinary, m => m.Contains("b:", StringComparison.Ordinal));
        Assert.Equal(expectedBinary, new PgOutputText().Describe(await PeekAsync(zeropg, binary)));
        Assert.Equal(expectedBinary, new PgOutputText().Describe(await StreamAsync(zeropg, binary: true)));
    }

    private static async Task RunWorkloadAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        foreach (var statement in Workload.Split(";\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            await connection.ExecAsync(statement);
    }

    private static async Task<List<byte[]>> PeekAsync(string connectionString, string options)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await connection.ExecAsync("SET TimeZone = 'UTC'");
        return await RawPgOutput.PeekAsync(connection, "diff", options);
    }

    /// <summary>ZeroPg's walsender from the slot's start, up to the Commit after the workload's 'end' message.</summary>
    private static Task<List<byte[]>> StreamAsync(string connectionString, bool binary)
    {
        var ended = false;
        return RawPgOutput.StreamAsync(connectionString, "diff",
            [new("proto_version", binary ? "3" : "1"), new("publication_names", "pub,pub_ins,pub_cols,pub_rows,pub_rows_ins,pub_root,pub_leaf"), new("messages", "true"), new("binary", binary ? "true" : "false")],
            message => (ended |= message[0] == 'M' && message.AsSpan().IndexOf("end\0"u8) == 10) && message[0] == 'C');
    }
}
