using Npgsql;
using Npgsql.Replication;
using NpgsqlTypes;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Replication.Slots;

/// <summary>The SQL-level slot functions on ordinary connections, with Postgres's results and errors (texts and SQLSTATEs
/// as native PostgreSQL gives them), and pg_replication_slots as they change it.</summary>
[Collection(ServerCollection.Name)]
public class SlotFunctionTests(ServerFixture fixture)
{
    private static async Task<PostgresException> FailsAsync(NpgsqlConnection c, string sql, string sqlState)
    {
        var error = await Assert.ThrowsAsync<PostgresException>(() => c.ExecAsync(sql));
        Assert.Equal(sqlState, error.SqlState);
        return error;
    }

    private static async Task<List<(string Lsn, uint Xid, byte[] Data)>> ChangesAsync(NpgsqlConnection c, string function, string slot, string? uptoChanges = "NULL")
    {
        await using var command = new NpgsqlCommand(
            $"SELECT lsn::text, xid, data FROM {function}('{slot}', NULL, {uptoChanges}, 'proto_version', '1', 'publication_names', 'sf_pub')", c);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(string, uint, byte[])>();
        while (await reader.ReadAsync())
            rows.Add((reader.GetString(0), reader.GetFieldValue<uint>(1), reader.GetFieldValue<byte[]>(2)));
        return rows;
    }

    private static string Codes(IEnumerable<(string Lsn, uint Xid, byte[] Data)> rows) => string.Concat(rows.Select(r => (char)r.Data[0]));

    [Fact]
    public async Task Create_peek_get_advance_and_drop_a_slot_with_sql_functions()
    {
        await using var c = await fixture.OpenAsync();
        await c.ExecAsync("CREATE TABLE sf_t (id int PRIMARY KEY, v text); CREATE PUBLICATION sf_pub FOR TABLE sf_t");

        // As npm pg-logical-replication's users create theirs: parameters, extended protocol.
        await using (var create = new NpgsqlCommand("SELECT slot_name, lsn FROM pg_create_logical_replication_slot($1, $2)", c))
        {
            create.Parameters.AddWithValue("sf_slot");
            create.Parameters.AddWithValue("pgoutput");
            await using var reader = await create.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal("sf_slot", reader.GetString(0));
            Assert.True(reader.GetFieldValue<NpgsqlLogSequenceNumber>(1) > default(NpgsqlLogSequenceNumber));
        }
        Assert.Equal("replication slot \"sf_slot\" already exists",
            (await FailsAsync(c, "SELECT pg_create_logical_replication_slot('sf_slot', 'pgoutput')", "42710")).MessageText);
        Assert.Equal("replication slot name \"Sf-Slot\" contains invalid character",
            (await FailsAsync(c, "SELECT pg_create_logical_replication_slot('Sf-Slot', 'pgoutput')", "42602")).MessageText);
        Assert.Equal("cannot enable failover for a temporary replication slot",
            (await FailsAsync(c, "SELECT pg_create_logical_replication_slot('sf_tfo', 'pgoutput', true, false, true)", "0A000")).MessageText);
        await using (var other = await fixture.OpenAsync()) // Npgsql closes a connection after a 58xxx error, as it does with Postgres's
        {
            Assert.Equal("could not access file \"test_decoding\": No such file or directory",
                (await FailsAsync(other, "SELECT pg_create_logical_replication_slot('sf_td', 'test_decoding')", "58P01")).MessageText);
        }

        await c.ExecAsync("BEGIN; INSERT INTO sf_t VALUES (1, 'a')");
        var xid = Convert.ToUInt32(await c.ScalarAsync("SELECT txid_current()"));
        await c.ExecAsync("COMMIT; INSERT INTO sf_t VALUES (2, 'b')");

        Assert.Contains("produces binary output, but function \"pg_logical_slot_peek_changes(name,pg_lsn,integer,text[])\" expects textual data",
            (await FailsAsync(c, "SELECT * FROM pg_logical_slot_peek_changes('sf_slot', NULL, NULL, 'proto_version', '1', 'publication_names', 'sf_pub')", "0A000")).MessageText);
        Assert.Equal("option \"publication_names\" missing",
            (await FailsAsync(c, "SELECT * FROM pg_logical_slot_peek_binary_changes('sf_slot', NULL, NULL, 'proto_version', '1')", "22023")).MessageText);
        Assert.Equal("array must have even number of elements",
            (await FailsAsync(c, "SELECT * FROM pg_logical_slot_peek_binary_changes('sf_slot', NULL, NULL, 'proto_version')", "22023")).MessageText);
        Assert.Equal("replication slot \"sf_none\" does not exist",
            (await FailsAsync(c, "SELECT * FROM pg_logical_slot_peek_binary_changes('sf_none', NULL, NULL)", "42704")).MessageText);

        var peeked = await ChangesAsync(c, "pg_logical_slot_peek_binary_changes", "sf_slot");
        Assert.Equal("BRICBIC", Codes(peeked));
        Assert.All(peeked.Take(4), r => Assert.Equal(xid, r.Xid)); // the transaction's real xid
        Assert.Equal("BRICBIC", Codes(await ChangesAsync(c, "pg_logical_slot_peek_binary_changes", "sf_slot"))); // peek consumes nothing

        // upto_nchanges stops after the transaction that reaches it, and get_ confirms what it returned: each call is a new
        // decoding context, so the Relation goes out again.
        Assert.Equal("BRIC", Codes(await ChangesAsync(c, "pg_logical_slot_get_binary_changes", "sf_slot", "1")));
        var rest = await ChangesAsync(c, "pg_logical_slot_peek_binary_changes", "sf_slot");
        Assert.Equal("BRIC", Codes(rest));
        Assert.Equal('b', (char)rest[2].Data[^1]); // the second insert, (2, 'b')

        var advanced = await c.ScalarAsync("SELECT end_lsn::text FROM pg_replication_slot_advance('sf_slot', 'FFFFFFFF/0')");
        Assert.Equal(advanced, await c.ScalarAsync("SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = 'sf_slot'"));
        Assert.Empty(await ChangesAsync(c, "pg_logical_slot_peek_binary_changes", "sf_slot"));
        Assert.Equal($"cannot advance replication slot to 0/1, minimum is {advanced}",
            (await FailsAsync(c, "SELECT pg_replication_slot_advance('sf_slot', '0/1')", "55000")).MessageText);
        Assert.Equal("invalid target WAL LSN", (await FailsAsync(c, "SELECT pg_replication_slot_advance('sf_slot', '0/0')", "22023")).MessageText);

        await c.ExecAsync("SELECT pg_drop_replication_slot('sf_slot')");
        Assert.Equal(0L, await c.ScalarAsync("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'sf_slot'"));
        Assert.Equal("replication slot \"sf_slot\" does not exist", (await FailsAsync(c, "SELECT pg_drop_replication_slot('sf_slot')", "42704")).MessageText);
    }

    [Fact]
    public async Task A_temporary_slot_is_its_sessions_and_goes_with_it()
    {
        int owner;
        await using (var a = await fixture.OpenAsync())
        {
            owner = Convert.ToInt32(await a.ScalarAsync("SELECT pg_backend_pid()"));
            await a.ExecAsync("SELECT pg_create_logical_replication_slot('sf_temp', 'pgoutput', true)");
            await using (var row = new NpgsqlCommand("SELECT temporary, active, active_pid FROM pg_replication_slots WHERE slot_name = 'sf_temp'", a))
            await using (var reader = await row.ExecuteReaderAsync())
            {
                Assert.True(await reader.ReadAsync());
                Assert.True(reader.GetBoolean(0));
                Assert.True(reader.GetBoolean(1));
                Assert.Equal(owner, reader.GetInt32(2));
            }
            await using var b = await fixture.OpenAsync();
            Assert.Equal($"replication slot \"sf_temp\" is active for PID {owner}",
                (await FailsAsync(b, "SELECT pg_drop_replication_slot('sf_temp')", "55006")).MessageText);
        }
        await using var c = await fixture.OpenAsync();
        await Eventually.WaitUntilAsync(async () => (long)(await c.ScalarAsync("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'sf_temp'"))! == 0,
            "the temporary slot dropped when its session left");
    }

    [Fact]
    public async Task Pg_replication_slots_has_the_engines_own_columns_and_types()
    {
        await using var c = await fixture.OpenAsync();
        await c.ExecAsync("SELECT pg_create_logical_replication_slot('sf_cols', 'pgoutput')");
        var expected = new List<string>();
        await using (var engine = new NpgsqlCommand("SELECT attname || ' ' || format_type(atttypid, atttypmod) FROM pg_attribute " +
            "WHERE attrelid = 'pg_catalog.pg_replication_slots'::regclass AND attnum > 0 ORDER BY attnum", c))
        await using (var reader = await engine.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
                expected.Add(reader.GetString(0));
        }
        Assert.Contains("wal_status text", expected); // Postgres 18's view, read from the engine's catalog
        await using var rows = new NpgsqlCommand("SELECT * FROM pg_catalog.pg_replication_slots s WHERE s.slot_name = 'sf_cols'", c);
        await using var slots = await rows.ExecuteReaderAsync();
        Assert.Equal(expected, Enumerable.Range(0, slots.FieldCount).Select(i => slots.GetName(i) + " " + slots.GetDataTypeName(i)));
        Assert.True(await slots.ReadAsync());
        Assert.Equal("pgoutput", slots["plugin"]);
        Assert.Equal("logical", slots["slot_type"]);
        Assert.Equal("postgres", slots["database"]);
        Assert.Equal(false, slots["active"]);
        Assert.Equal("reserved", slots["wal_status"]);
        Assert.Equal(slots["restart_lsn"], slots["confirmed_flush_lsn"]);
        Assert.True((long)slots["safe_wal_size"] > 0); // ZeroPg's max_slot_wal_keep_size (1GB) minus the lag
        Assert.IsType<DateTime>(slots["inactive_since"]);
        await slots.CloseAsync();
        await c.ExecAsync("SELECT pg_drop_replication_slot('sf_cols')");
    }
}

/// <summary>max_replication_slots, on a server of its own (the shared server's other tests leave slots).</summary>
public class SlotLimitTests
{
    [Fact]
    public async Task Slots_beyond_max_replication_slots_are_refused_with_53400_and_a_dropped_one_frees_its_place()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var c = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await c.OpenAsync();
        var max = int.Parse(await c.TextAsync("SHOW max_replication_slots"));
        Assert.InRange(max, 1, 64);
        for (var i = 0; i < max; i++)
            await c.ExecAsync($"SELECT pg_create_logical_replication_slot('limit_{i}', 'pgoutput')");

        var full = await Assert.ThrowsAsync<PostgresException>(() => c.ExecAsync("SELECT pg_create_logical_replication_slot('limit_more', 'pgoutput')"));
        Assert.Equal(("53400", "all replication slots are in use", "Free one or increase \"max_replication_slots\"."), (full.SqlState, full.MessageText, full.Hint));
        // Npgsql closes a connection after a class 53 error (insufficient resources), as it does with Postgres's.
        await c.CloseAsync();
        await c.OpenAsync();
        // A name in use is still told apart first, as Postgres does.
        var taken = await Assert.ThrowsAsync<PostgresException>(() => c.ExecAsync("SELECT pg_create_logical_replication_slot('limit_0', 'pgoutput')"));
        Assert.Equal("42710", taken.SqlState);

        // The walsender's CREATE_REPLICATION_SLOT is held to the same limit.
        await using (var walsender = new Npgsql.Replication.LogicalReplicationConnection(server.GetConnectionString() + ";Pooling=false"))
        {
            await walsender.Open();
            var refused = await Assert.ThrowsAsync<PostgresException>(() => walsender.CreatePgOutputReplicationSlot("limit_ws",
                slotSnapshotInitMode: Npgsql.Replication.LogicalSlotSnapshotInitMode.NoExport));
            Assert.Equal("53400", refused.SqlState);
        }

        await c.ExecAsync("SELECT pg_drop_replication_slot('limit_3')");
        await c.ExecAsync("SELECT pg_create_logical_replication_slot('limit_more', 'pgoutput')");
        Assert.Equal((long)max, await c.ScalarAsync("SELECT count(*) FROM pg_replication_slots"));
    }
}
