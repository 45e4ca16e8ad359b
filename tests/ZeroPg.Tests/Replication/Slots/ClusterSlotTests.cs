using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.PgOutput;
using ZeroPg.Tests.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Replication.Slots;

/// <summary>
/// Replication slots belong to the server, as Postgres's to its cluster, although each ZeroPg database runs its own engine:
/// pg_replication_slots lists every database's from any of them (right after the CREATE returns, active while another
/// database's walsender streams one, still after that database's engine stopped), names are unique over the server (42710),
/// max_replication_slots counts them all (53400), and a slot used from another database gets Postgres's 55000. Errors are
/// compared with PostgreSQL 15 running the same statements. Each test has a server of its own (they count slots), started
/// one after the other with the shared server's tests: seven servers and a PostgreSQL starting beside ExportedSnapshotTests'
/// writers pushed its CREATE_REPLICATION_SLOT past Npgsql's 30 s on a loaded 2-core machine.
/// </summary>
[Collection(ServerCollection.Name)]
[Trait("Category", "Slow")]
public class ClusterSlotTests : IAsyncLifetime
{
    private ZeroPgServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var postgres = await OpenAsync(_server, "postgres");
        await postgres.ExecAsync("CREATE DATABASE db2");
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static async Task<NpgsqlConnection> OpenAsync(ZeroPgServer server, string database)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server.GetConnectionString()) { Database = database, Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    private static async Task<(string SqlState, string Message)> ErrorAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var error = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecAsync(sql));
        return (error.SqlState, error.MessageText);
    }

    private static async Task<List<string>> RowsAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
            rows.Add(string.Join("|", Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "" : Convert.ToString(reader.GetValue(i)))));
        return rows;
    }

    private const string SlotColumns = "slot_name, plugin, slot_type, database, temporary, active, active_pid, restart_lsn, confirmed_flush_lsn, "
        + "wal_status, safe_wal_size, two_phase, inactive_since, conflicting, invalidation_reason, failover, synced";

    [Fact]
    public async Task Every_database_lists_every_databases_slots_right_after_they_are_made()
    {
        await using var postgres = await OpenAsync(_server, "postgres");
        await using var db2 = await OpenAsync(_server, "db2");
        await postgres.ExecAsync("SELECT pg_create_logical_replication_slot('made_in_postgres', 'pgoutput')");
        await db2.ExecAsync("SELECT pg_create_logical_replication_slot('made_in_db2', 'pgoutput')");
        await using (var walsender = new LogicalReplicationConnection(new NpgsqlConnectionStringBuilder(_server.GetConnectionString()) { Database = "db2", Pooling = false }.ConnectionString))
        {
            await walsender.Open();
            await walsender.CreatePgOutputReplicationSlot("made_by_walsender", slotSnapshotInitMode: LogicalSlotSnapshotInitMode.NoExport);
        }

        var db2Oid = await postgres.ScalarAsync("SELECT oid FROM pg_database WHERE datname = 'db2'");
        Assert.Equal([$"made_by_walsender|db2|{db2Oid}", $"made_in_db2|db2|{db2Oid}", "made_in_postgres|postgres|5"],
            await RowsAsync(postgres, "SELECT slot_name, database, datoid FROM pg_replication_slots ORDER BY slot_name"));
        var postgresOid = await db2.ScalarAsync("SELECT oid FROM pg_database WHERE datname = 'postgres'");
        Assert.Equal([$"made_by_walsender|db2", "made_in_db2|db2", $"made_in_postgres|postgres|{postgresOid}"],
            (await RowsAsync(db2, "SELECT slot_name, database, CASE WHEN database = 'postgres' THEN datoid::text END FROM pg_replication_slots ORDER BY slot_name"))
            .Select(r => r.TrimEnd('|')).ToList());

        // Every column as the slot's own database shows it (but datoid: each database's own oid in its engine differs from the one
        // the others list it under, in pg_database too).
        var query = $"SELECT {SlotColumns} FROM pg_replication_slots ORDER BY slot_name";
        Assert.Equal(await RowsAsync(db2, query), await RowsAsync(postgres, query));

        await db2.ExecAsync("SELECT pg_drop_replication_slot('made_in_db2')");
        Assert.Equal(["made_by_walsender", "made_in_postgres"], await RowsAsync(postgres, "SELECT slot_name FROM pg_replication_slots ORDER BY 1"));
    }

    [Fact]
    public async Task A_walsender_streaming_in_one_database_shows_its_slot_active_in_the_others()
    {
        await using var postgres = await OpenAsync(_server, "postgres");
        await using var db2 = await OpenAsync(_server, "db2");
        await db2.ExecAsync("CREATE TABLE cs_t (id int PRIMARY KEY); CREATE PUBLICATION cs_pub FOR TABLE cs_t; SELECT pg_create_logical_replication_slot('cs_stream', 'pgoutput')");
        await using var repl = new LogicalReplicationConnection(new NpgsqlConnectionStringBuilder(_server.GetConnectionString()) { Database = "db2", Pooling = false }.ConnectionString);
        await repl.Open();
        using var stop = NpgsqlDeadline.After(TimeSpan.FromSeconds(60));
        var stream = Task.Run(async () =>
        {
            await foreach (var _ in repl.StartReplication(new PgOutputReplicationSlot("cs_stream"), new PgOutputReplicationOptions("cs_pub", PgOutputProtocolVersion.V1), stop.Token))
            {
            }
        });

        await Eventually.WaitUntilAsync(async () => await db2.ScalarAsync("SELECT active_pid FROM pg_replication_slots WHERE slot_name = 'cs_stream'") is int,
            "the walsender holds the slot");
        var pid = (int)(await db2.ScalarAsync("SELECT active_pid FROM pg_replication_slots WHERE slot_name = 'cs_stream'"))!;
        Assert.Equal([$"True|{pid}|"], await RowsAsync(postgres, "SELECT active, active_pid, inactive_since FROM pg_replication_slots WHERE slot_name = 'cs_stream'"));
        Assert.Equal(pid, await postgres.ScalarAsync("SELECT pid FROM pg_stat_replication"));

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stream.WaitAsync(TimeSpan.FromSeconds(30)));
        await Eventually.WaitUntilAsync(async () => (bool)(await postgres.ScalarAsync("SELECT NOT active AND inactive_since IS NOT NULL FROM pg_replication_slots WHERE slot_name = 'cs_stream'"))!,
            "the slot is inactive again");
    }

    [Fact]
    public async Task Names_are_the_servers_and_a_slot_is_used_only_from_its_database_with_postgres_15s_errors()
    {
        var native = new NativePostgres { Settings = ["wal_level=logical"] };
        await native.InitializeAsync();
        try
        {
            await using (var admin = new NpgsqlConnection(native.ConnectionString()))
            {
                await admin.OpenAsync();
                await admin.ExecAsync("CREATE DATABASE db2");
            }
            foreach (var postgres in (string[])[native.ConnectionString(), Database(_server, "postgres")])
            {
                await using var first = new NpgsqlConnection(postgres);
                await first.OpenAsync();
                await first.ExecAsync("SELECT pg_create_logical_replication_slot('taken', 'pgoutput')");
            }

            foreach (var sql in (string[])[
                "SELECT pg_create_logical_replication_slot('taken', 'pgoutput')",
                "SELECT * FROM pg_logical_slot_peek_binary_changes('taken', NULL, NULL, 'proto_version', '1', 'publication_names', 'p')",
                "SELECT * FROM pg_logical_slot_get_binary_changes('taken', NULL, NULL, 'proto_version', '1', 'publication_names', 'p')",
                "SELECT pg_replication_slot_advance('taken', pg_current_wal_lsn())",
            ])
            {
                var expected = await ErrorAsync(native.ConnectionString("db2"), sql);
                Assert.Equal(expected, await ErrorAsync(Database(_server, "db2"), sql));
            }
            Assert.Equal(("42710", "replication slot \"taken\" already exists"), await ErrorAsync(Database(_server, "db2"), "SELECT pg_create_logical_replication_slot('taken', 'pgoutput')"));

            // Postgres drops a slot from any database; ZeroPg from its own only (the slot lives in that database's engine), with a
            // hint naming it.
            await using (var nativeDb2 = new NpgsqlConnection(native.ConnectionString("db2")))
            {
                await nativeDb2.OpenAsync();
                await nativeDb2.ExecAsync("SELECT pg_create_logical_replication_slot('dropped_elsewhere', 'pgoutput')");
                await using var nativePostgres = new NpgsqlConnection(native.ConnectionString());
                await nativePostgres.OpenAsync();
                await nativePostgres.ExecAsync("SELECT pg_drop_replication_slot('dropped_elsewhere')");
            }
            await using (var db2 = new NpgsqlConnection(Database(_server, "db2")))
            {
                await db2.OpenAsync();
                var drop = await Assert.ThrowsAsync<PostgresException>(() => db2.ExecAsync("SELECT pg_drop_replication_slot('taken')"));
                Assert.Equal(("55000", "replication slot \"taken\" was not created in this database", "Connect to database \"postgres\" to use it."),
                    (drop.SqlState, drop.MessageText, drop.Hint));
            }

            // The walsender's CREATE_REPLICATION_SLOT and START_REPLICATION: the same errors.
            foreach (var server in (string[])[native.ConnectionString("db2"), Database(_server, "db2")])
            {
                await using var walsender = new LogicalReplicationConnection(server);
                await walsender.Open();
                var clash = await Assert.ThrowsAsync<PostgresException>(() => walsender.CreatePgOutputReplicationSlot("taken", slotSnapshotInitMode: LogicalSlotSnapshotInitMode.NoExport));
                Assert.Equal(("42710", "replication slot \"taken\" already exists"), (clash.SqlState, clash.MessageText));
            }
            foreach (var server in (string[])[native.ConnectionString("db2"), Database(_server, "db2")])
            {
                await using var walsender = new LogicalReplicationConnection(server);
                await walsender.Open();
                var wrong = await Assert.ThrowsAsync<PostgresException>(async () =>
                {
                    await foreach (var _ in walsender.StartReplication(new PgOutputReplicationSlot("taken"), new PgOutputReplicationOptions("p", PgOutputProtocolVersion.V1), CancellationToken.None))
                    {
                    }
                });
                Assert.Equal(("55000", "replication slot \"taken\" was not created in this database"), (wrong.SqlState, wrong.MessageText));
            }
        }
        finally
        {
            await native.DisposeAsync();
        }
    }

    [Fact]
    public async Task Max_replication_slots_counts_every_databases_slots()
    {
        await using var postgres = await OpenAsync(_server, "postgres");
        await using var db2 = await OpenAsync(_server, "db2");
        var max = int.Parse(await postgres.TextAsync("SHOW max_replication_slots"));
        for (var i = 0; i < max; i++)
            await (i % 2 == 0 ? postgres : db2).ExecAsync($"SELECT pg_create_logical_replication_slot('cl_{i}', 'pgoutput')");

        var full = await Assert.ThrowsAsync<PostgresException>(() => db2.ExecAsync("SELECT pg_create_logical_replication_slot('cl_more', 'pgoutput')"));
        Assert.Equal(("53400", "all replication slots are in use", "Free one or increase \"max_replication_slots\"."), (full.SqlState, full.MessageText, full.Hint));
        await using (var walsender = new LogicalReplicationConnection(Database(_server, "postgres")))
        {
            await walsender.Open();
            var refused = await Assert.ThrowsAsync<PostgresException>(() => walsender.CreatePgOutputReplicationSlot("cl_ws", slotSnapshotInitMode: LogicalSlotSnapshotInitMode.NoExport));
            Assert.Equal("53400", refused.SqlState);
        }

        await postgres.ExecAsync("SELECT pg_drop_replication_slot('cl_0')");
        await using var again = await OpenAsync(_server, "db2"); // Npgsql closes a connection after a class 53 error
        await again.ExecAsync("SELECT pg_create_logical_replication_slot('cl_more', 'pgoutput')");
        Assert.Equal((long)max, await postgres.ScalarAsync("SELECT count(*) FROM pg_replication_slots"));
    }

    [Fact]
    public async Task Two_databases_making_the_same_name_at_once_get_one_slot_and_one_42710()
    {
        for (var round = 0; round < 5; round++)
        {
            var name = $"race_{round}";
            var attempts = await Task.WhenAll(new[] { "postgres", "db2" }.Select(async database =>
            {
                await using var connection = await OpenAsync(_server, database);
                try
                {
                    await connection.ExecAsync($"SELECT pg_create_logical_replication_slot('{name}', 'pgoutput')");
                    return "made";
                }
                catch (PostgresException error)
                {
                    return error.SqlState;
                }
            }));
            Assert.Equal(["42710", "made"], attempts.Order());
        }
    }

    private static string Database(ZeroPgServer server, string database)
        => new NpgsqlConnectionStringBuilder(server.GetConnectionString()) { Database = database, Pooling = false }.ConnectionString;
}

/// <summary>A stopped database's slots (its engine stops after the idle time, and every database's is stopped when the server
/// starts) are still listed from the others, and their names still taken.</summary>
public class StoppedDatabaseSlotTests
{
    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_stopped_databases_slots_are_listed_and_their_names_taken_after_a_restart()
    {
        using var directory = new TempDirectory();
        var options = new ZeroPgOptions { DataDirectory = directory.Path, SpareDatabaseEngine = ZeroPg.Databases.SpareEngineMode.Off };
        await using (var server = await ZeroPgServer.StartAsync(options, TestLogging.Factory))
        {
            await using var postgres = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
            await postgres.OpenAsync();
            await postgres.ExecAsync("CREATE DATABASE kept");
            await using var kept = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server.GetConnectionString()) { Database = "kept", Pooling = false }.ConnectionString);
            await kept.OpenAsync();
            await kept.ExecAsync("SELECT pg_create_logical_replication_slot('kept_slot', 'pgoutput')");
        }
        await using (var server = await ZeroPgServer.StartAsync(options, TestLogging.Factory))
        {
            await using var postgres = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
            await postgres.OpenAsync();
            Assert.Null(server.Services.Databases.Find("kept")!.RunningServices); // not started by the reads below
            Assert.Equal("kept_slot|kept|pgoutput", await postgres.TextAsync("SELECT slot_name || '|' || database || '|' || plugin FROM pg_replication_slots"));
            var clash = await Assert.ThrowsAsync<PostgresException>(() => postgres.ExecAsync("SELECT pg_create_logical_replication_slot('kept_slot', 'pgoutput')"));
            Assert.Equal("42710", clash.SqlState);
            Assert.Null(server.Services.Databases.Find("kept")!.RunningServices);
        }
    }
}
