using System.Buffers.Binary;
using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.Internal;
using NpgsqlTypes;
using Xunit.Abstractions;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Replication.Walsender;

/// <summary>
/// Two-phase decoding (issue 13: pgoutput protocol 3 with two_phase), PostgreSQL 15 against ZeroPg, both through their walsender
/// (a TWO_PHASE slot made by Npgsql, START_REPLICATION read through Npgsql's raw XLogData API), compared message by message with
/// <see cref="PgOutputText"/>: a prepared transaction goes out at its PREPARE (Begin Prepare, its changes, Prepare) ahead of what
/// commits before its COMMIT PREPARED, which then sends Commit Prepared alone; a rolled-back one ends with Rollback Prepared; a
/// prepare the consumer confirmed is not sent again after a reconnect, only its Commit Prepared.
/// </summary>
[Trait("Category", "Slow")]
public sealed class TwoPhaseDifferentialTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Setup = """
        CREATE TABLE items (id int PRIMARY KEY, v text);
        CREATE TABLE unpublished (id int);
        CREATE PUBLICATION pub FOR TABLE items
        """;

    /// <summary>A plain insert; a prepared transaction (insert, update, message) with a commit between its PREPARE and COMMIT PREPARED;
    /// one rolled back; one that touched only an unpublished table; one left prepared, then the end.</summary>
    private const string Before = """
        INSERT INTO items VALUES (1, 'plain');
        BEGIN;
        INSERT INTO items VALUES (2, 'prepared');
        UPDATE items SET v = 'changed in a prepared transaction' WHERE id = 1;
        SELECT pg_logical_emit_message(true, 'p', 'in a prepared transaction');
        PREPARE TRANSACTION 'tp_a';
        INSERT INTO items VALUES (3, 'between prepare and commit');
        COMMIT PREPARED 'tp_a';
        BEGIN;
        INSERT INTO items VALUES (4, 'rolled back');
        PREPARE TRANSACTION 'tp_b';
        ROLLBACK PREPARED 'tp_b';
        BEGIN;
        INSERT INTO unpublished VALUES (1);
        PREPARE TRANSACTION 'tp_c';
        COMMIT PREPARED 'tp_c';
        BEGIN;
        INSERT INTO items VALUES (5, 'prepared, committed after a reconnect');
        PREPARE TRANSACTION 'tp_d';
        SELECT pg_logical_emit_message(true, 'end', 'first')
        """;

    private const string After = """
        INSERT INTO items VALUES (6, 'after the reconnect');
        COMMIT PREPARED 'tp_d';
        SELECT pg_logical_emit_message(true, 'end', 'second')
        """;

    private static readonly KeyValuePair<string, string?>[] Options =
        [new("proto_version", "3"), new("publication_names", "pub"), new("messages", "true"), new("two_phase", "on")];

    private readonly ReferencePair _servers = new(["max_prepared_transactions=5"], new ZeroPgOptions { PostgresSettings = { ["max_prepared_transactions"] = "5" } }, commandTimeoutSeconds: 60);

    public Task InitializeAsync() => _servers.StartAsync();

    public Task DisposeAsync() => _servers.StopAsync();

    [Fact]
    public async Task Prepared_transactions_go_out_at_prepare_and_their_end_after_it_as_postgres_15_sends_them()
    {
        var postgres = _servers.Postgres;
        var zeropg = _servers.ZeroPg;
        var expected = await RunAsync(postgres, isZeroPg: false);
        output.WriteLine(string.Join("\n", expected.Text));
        // What the workload shows on Postgres: the prepare ahead of the commit in between, Commit Prepared after it.
        var text = expected.Text;
        Assert.True(text.IndexOf("b tp_a") < text.IndexOf("I items N[t:2, t:prepared]"));
        Assert.True(text.IndexOf("P flags=0 tp_a") < text.FindIndex(m => m.StartsWith("I items N[t:3,", StringComparison.Ordinal)));
        Assert.True(text.FindIndex(m => m.StartsWith("I items N[t:3,", StringComparison.Ordinal)) < text.IndexOf("K flags=0 tp_a"));
        Assert.Contains("r flags=0 tp_b", text);
        Assert.Equal(1, text.Count(m => m == "b tp_d")); // not again after the reconnect

        Assert.Contains("I items N[t:2, t:prepared]", expected.Plain); // a slot without two_phase: tp_a as one transaction at its commit
        Assert.DoesNotContain(expected.Plain, m => m.StartsWith('b') || m.StartsWith('K'));

        var actual = await RunAsync(zeropg, isZeroPg: true);
        Assert.Equal(expected.Text, actual.Text);
        Assert.Equal(expected.Plain, actual.Plain);

        // ZeroPg's xids are the transactions' own, and its LSNs rise: prepare, its end, then the commit.
        var xid = uint.Parse(actual.PreparedXid);
        var begin = actual.Raw.Single(m => m[0] == 'b' && Gid(m, 29) == "tp_a");
        var prepare = actual.Raw.Single(m => m[0] == 'P' && Gid(m, 30) == "tp_a");
        var commit = actual.Raw.Single(m => m[0] == 'K' && Gid(m, 30) == "tp_a");
        Assert.Equal(xid, BinaryPrimitives.ReadUInt32BigEndian(begin.AsSpan(25)));
        Assert.Equal(xid, BinaryPrimitives.ReadUInt32BigEndian(prepare.AsSpan(26)));
        Assert.Equal(xid, BinaryPrimitives.ReadUInt32BigEndian(commit.AsSpan(26)));
        Assert.Equal(begin.AsSpan(1, 16).ToArray(), prepare.AsSpan(2, 16).ToArray());
        Assert.True(BinaryPrimitives.ReadUInt64BigEndian(prepare.AsSpan(10)) < BinaryPrimitives.ReadUInt64BigEndian(commit.AsSpan(2)));

        // ZeroPg only: a transaction begun and prepared in one unit (one query) cannot be read between its statements, so it goes
        // out whole at its COMMIT PREPARED, as Postgres sends one prepared before the slot's two_phase_at.
        await using var connection = new NpgsqlConnection(zeropg);
        await connection.OpenAsync();
        await using (var batch = new NpgsqlCommand("BEGIN; INSERT INTO items VALUES (9, 'one query'); PREPARE TRANSACTION 'tp_e'", connection))
            await batch.ExecuteNonQueryAsync();
        await connection.ExecAsync("INSERT INTO items VALUES (10, 'after')");
        await connection.ExecAsync("COMMIT PREPARED 'tp_e'");
        var (raw, _) = await StreamAsync(zeropg, m => m[0] == 'K');
        Assert.Equal(
            ["B", "R public.items d [1:id:23:-1, 0:v:25:-1]", "I items N[t:10, t:after]", "C flags=0", "b tp_e", "I items N[t:9, t:one query]", "P flags=0 tp_e", "K flags=0 tp_e"],
            new PgOutputText().Describe(raw));
    }

    /// <param name="Plain">What a slot without two_phase decodes of the same workload (SQL functions).</param>
    private sealed record Run(List<string> Text, List<byte[]> Raw, string PreparedXid, List<string> Plain);

    /// <summary>The setup and a TWO_PHASE slot, then <see cref="Before"/>, streamed up to its end and confirmed; <see cref="After"/>,
    /// streamed again from the slot.</summary>
    private static async Task<Run> RunAsync(string connectionString, bool isZeroPg)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await ExecuteAllAsync(connection, Setup);
        await CreateSlotAsync(connectionString);
        await connection.ExecAsync("SELECT pg_create_logical_replication_slot('plain', 'pgoutput')");
        string? preparedXid = null;
        foreach (var statement in Statements(Before))
        {
            if (statement.StartsWith("PREPARE TRANSACTION 'tp_a'", StringComparison.Ordinal))
                preparedXid = (string?)await connection.ScalarAsync("SELECT pg_current_xact_id()::text");
            await connection.ExecAsync(statement);
        }
        var (first, confirmed) = await StreamAsync(connectionString, EndsWith("first"), confirm: true);
        await Eventually.WaitUntilAsync(async () => await connection.ScalarAsync(
                $"SELECT NOT active AND confirmed_flush_lsn >= '{confirmed}' FROM pg_replication_slots WHERE slot_name = 'tp'") is true,
            "the slot is free again, with the confirmed position");
        // The slot without two_phase consumes what it has; ZeroPg then purges what both confirmed: tp_d, still prepared, keeps the
        // marker that says its prepare went out (else it would be sent again, whole, at its commit).
        var plain = new PgOutputText();
        var decoded = plain.Describe(await SqlChangesAsync(connection, "get"));
        if (isZeroPg)
            await connection.ExecAsync("SELECT zeropg_repl.maintain()");
        await ExecuteAllAsync(connection, After);
        var (second, last) = await StreamAsync(connectionString, EndsWith("second"), confirm: true);
        await Eventually.WaitUntilAsync(async () => await connection.ScalarAsync(
                $"SELECT NOT active AND confirmed_flush_lsn >= '{last}' FROM pg_replication_slots WHERE slot_name = 'tp'") is true,
            "the slot is free again, with the confirmed position");
        var raw = first.Concat(second).ToList();
        decoded.AddRange(plain.Describe(await SqlChangesAsync(connection, "peek")));
        return new Run(new PgOutputText().Describe(raw), raw, preparedXid!, decoded);
    }

    private static async Task<List<byte[]>> SqlChangesAsync(NpgsqlConnection connection, string how)
    {
        await using var command = new NpgsqlCommand(
            $"SELECT data FROM pg_logical_slot_{how}_binary_changes('plain', NULL, NULL, 'proto_version', '1', 'publication_names', 'pub', 'messages', 'true')", connection);
        var messages = new List<byte[]>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            messages.Add((byte[])reader[0]);
        return messages;
    }

    private static async Task CreateSlotAsync(string connectionString)
    {
        await using var replication = new LogicalReplicationConnection(connectionString);
        await replication.Open();
        await replication.CreatePgOutputReplicationSlot("tp", slotSnapshotInitMode: LogicalSlotSnapshotInitMode.NoExport, twoPhase: true);
    }

    /// <summary>The Commit after the 'end' message with this content.</summary>
    private static Func<byte[], bool> EndsWith(string content)
    {
        var ended = false;
        var marker = System.Text.Encoding.UTF8.GetBytes("end\0");
        return message => (ended |= message[0] == 'M' && message.AsSpan().IndexOf(marker) == 10
            && message.AsSpan(message.Length - content.Length).SequenceEqual(System.Text.Encoding.UTF8.GetBytes(content))) && message[0] == 'C';
    }

    /// <summary>START_REPLICATION from the slot's confirmed position up to the message <paramref name="isLast"/> picks; with
    /// <paramref name="confirm"/>, that message's end is reported flushed before the stream ends.</summary>
    private static async Task<(List<byte[]> Messages, NpgsqlLogSequenceNumber Last)> StreamAsync(string connectionString, Func<byte[], bool> isLast, bool confirm = false)
    {
        await using var replication = new LogicalReplicationConnection(connectionString);
        await replication.Open();
        using var stop = NpgsqlDeadline.After(TimeSpan.FromSeconds(60));
        var messages = new List<byte[]>();
        await foreach (var data in replication.StartLogicalReplication(new Slot("tp"), stop.Token, options: Options))
        {
            using var bytes = new MemoryStream();
            await data.Data.CopyToAsync(bytes, stop.Token);
            messages.Add(bytes.ToArray());
            if (!isLast(messages[^1]))
                continue;
            if (confirm)
            {
                replication.SetReplicationStatus(data.WalEnd);
                await replication.SendStatusUpdate(stop.Token);
            }
            return (messages, data.WalEnd);
        }
        throw new InvalidOperationException("the stream ended early");
    }

    private static string Gid(byte[] message, int at) => System.Text.Encoding.UTF8.GetString(message, at, Array.IndexOf(message, (byte)0, at) - at);

    private static IEnumerable<string> Statements(string sql) => sql.Split(";\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static async Task ExecuteAllAsync(NpgsqlConnection connection, string sql)
    {
        foreach (var statement in Statements(sql))
            await connection.ExecAsync(statement);
    }

    private sealed class Slot(string name) : LogicalReplicationSlot("pgoutput", new ReplicationSlotOptions(name));
}
