using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.Internal;
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
    /// non-transactional messages, TRUNCATE of two tables with RESTART IDENTITY, with CASCADE, and plain, and a publication's
    /// column list (a text and an enum column left out).</summary>
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
        SELECT pg_logical_emit_message(true, 'end', 'done');
        """;

    private readonly NativePostgres _postgres = new() { Settings = ["wal_level=logical"] };
    private ZeroPgServer _zeropg = null!;

    public async Task InitializeAsync()
    {
        await Task.WhenAll(_postgres.InitializeAsync(), StartZeroPgAsync());
        async Task StartZeroPgAsync() => _zeropg = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
    }

    public async Task DisposeAsync()
    {
        await _zeropg.DisposeAsync();
        await _postgres.DisposeAsync();
    }

    [Fact]
    public async Task The_same_workload_decodes_to_the_same_pgoutput_messages_on_postgres_15_and_zeropg()
    {
        var postgres = _postgres.ConnectionString() + ";Timeout=30;Command Timeout=60";
        var zeropg = _zeropg.GetConnectionString() + ";Pooling=false;Timeout=30;Command Timeout=60";
        await RunWorkloadAsync(postgres);
        await RunWorkloadAsync(zeropg);

        const string text = "'proto_version', '1', 'publication_names', 'pub,pub_ins,pub_cols', 'messages', 'true'";
        var expected = new PgOutputText().Describe(await PeekAsync(postgres, text));
        output.WriteLine(string.Join("\n", expected));
        Assert.Contains("T options=2 [parent, child]", expected); // the workload did what it says on Postgres
        Assert.Contains("T options=1 [parent, child]", expected);
        Assert.DoesNotContain(expected, m => m.Contains("hidden", StringComparison.Ordinal)); // a column list leaves a column out

        Assert.Equal(expected, new PgOutputText().Describe(await PeekAsync(zeropg, text)));
        Assert.Equal(expected, new PgOutputText().Describe(await StreamAsync(zeropg, binary: false)));

        const string binary = "'proto_version', '3', 'publication_names', 'pub,pub_ins,pub_cols', 'messages', 'true', 'binary', 'true'";
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
        await using var command = new NpgsqlCommand($"SELECT data FROM pg_logical_slot_peek_binary_changes('diff', NULL, NULL, {options})", connection);
        var messages = new List<byte[]>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            messages.Add((byte[])reader[0]);
        return messages;
    }

    /// <summary>ZeroPg's walsender from the slot's start, up to the Commit after the workload's 'end' message.</summary>
    private static async Task<List<byte[]>> StreamAsync(string connectionString, bool binary)
    {
        await using var replication = new LogicalReplicationConnection(connectionString);
        await replication.Open();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var messages = new List<byte[]>();
        var ended = false;
        await foreach (var data in replication.StartLogicalReplication(new RawPgOutputSlot("diff"), stop.Token, options:
            [new("proto_version", binary ? "3" : "1"), new("publication_names", "pub,pub_ins,pub_cols"), new("messages", "true"), new("binary", binary ? "true" : "false")]))
        {
            using var bytes = new MemoryStream();
            await data.Data.CopyToAsync(bytes, stop.Token);
            var message = bytes.ToArray();
            messages.Add(message);
            ended |= message[0] == 'M' && message.AsSpan().IndexOf("end\0"u8) == 10;
            if (ended && message[0] == 'C')
                break;
        }
        return messages;
    }

    private sealed class RawPgOutputSlot(string name) : LogicalReplicationSlot("pgoutput", new ReplicationSlotOptions(name));
}
