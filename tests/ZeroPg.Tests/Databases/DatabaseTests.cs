using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Databases;

/// <summary>
/// CREATE / DROP / ALTER DATABASE and connections to each database, with real clients (Npgsql sends them in the
/// extended protocol, psql in the simple one). Creating a database starts an engine (several seconds on a loaded
/// 2-core machine), hence Slow.
/// </summary>
public sealed class DatabaseTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task A_missing_database_is_refused_with_3D000()
    {
        var error = await Assert.ThrowsAsync<PostgresException>(() => fixture.OpenAsync("no_such_database"));
        Assert.Equal("3D000", error.SqlState);
        Assert.Equal("FATAL", error.Severity);
        Assert.Equal("database \"no_such_database\" does not exist", error.MessageText);
    }

    [Fact]
    public async Task Database_commands_inside_a_transaction_block_get_25001()
    {
        await using var connection = await fixture.OpenAsync("postgres");
        await using var transaction = await connection.BeginTransactionAsync();
        await using var command = new NpgsqlCommand("CREATE DATABASE never_made", connection, transaction);
        var error = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());
        Assert.Equal("25001", error.SqlState);
        Assert.Equal("CREATE DATABASE cannot run inside a transaction block", error.MessageText);
        await transaction.RollbackAsync();
        Assert.Null(fixture.Server.Services.Databases.Find("never_made"));
    }

    [Fact]
    public async Task Postgres_itself_cannot_be_dropped()
    {
        await using var connection = await fixture.OpenAsync("postgres");
        await using var command = new NpgsqlCommand("DROP DATABASE postgres", connection);
        var error = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());
        Assert.Equal("55006", error.SqlState);
        Assert.Equal("cannot drop the currently open database", error.MessageText);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Create_connect_isolate_rename_and_drop()
    {
        var name = fixture.NewName("app");
        await fixture.ExecuteAsync($"CREATE DATABASE {name} WITH OWNER postgres ENCODING 'UTF8' CONNECTION LIMIT 10");
        await using (var connection = await fixture.OpenAsync(name))
        {
            Assert.Equal(name, await connection.TextAsync("SELECT current_database()"));
            await connection.ExecAsync("CREATE TABLE only_here (id int); INSERT INTO only_here VALUES (42)");
        }
        await using (var postgres = await fixture.OpenAsync("postgres"))
        {
            Assert.Equal("postgres", await postgres.TextAsync("SELECT current_database()"));
            Assert.Equal(DBNull.Value, await postgres.ScalarAsync("SELECT to_regclass('only_here')::text"));
        }

        // A client of another role was the engine session's last: the rename (in place, in that engine) is still the superuser's.
        var role = fixture.NewName("visitor");
        await fixture.ExecuteAsync($"CREATE ROLE {role} LOGIN");
        await using (var visitor = new NpgsqlConnection(fixture.ConnectionString(name, $"Username={role};Pooling=false")))
        {
            await visitor.OpenAsync();
            Assert.Equal(role, await visitor.TextAsync("SELECT current_user"));
        }
        var renamed = fixture.NewName("renamed");
        await fixture.ExecuteAsync($"ALTER DATABASE {name} RENAME TO {renamed}");
        Assert.Equal("3D000", (await Assert.ThrowsAsync<PostgresException>(() => fixture.OpenAsync(name))).SqlState);
        await using (var connection = await fixture.OpenAsync(renamed))
        {
            Assert.Equal(renamed, await connection.TextAsync("SELECT current_database()"));
            Assert.Equal(42, (int)(await connection.ScalarAsync("SELECT id FROM only_here"))!);
            var self = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecAsync($"DROP DATABASE {renamed}"));
            Assert.Equal("55006", self.SqlState);
        }
        await fixture.ExecuteAsync($"DROP DATABASE {renamed}");
        Assert.Equal("3D000", (await Assert.ThrowsAsync<PostgresException>(() => fixture.OpenAsync(renamed))).SqlState);
        var missing = await Assert.ThrowsAsync<PostgresException>(() => fixture.ExecuteAsync($"DROP DATABASE {renamed}"));
        Assert.Equal("3D000", missing.SqlState);
        await fixture.ExecuteAsync($"DROP DATABASE IF EXISTS {renamed}");
        var duplicate = await Assert.ThrowsAsync<PostgresException>(() => fixture.ExecuteAsync("CREATE DATABASE postgres"));
        Assert.Equal("42P04", duplicate.SqlState);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_template_copies_its_data_and_a_pooled_data_source_serves_both_databases()
    {
        var template = fixture.NewName("template");
        await fixture.ExecuteAsync($"CREATE DATABASE {template}");
        // An extension the template's engine loaded while it ran: its copies' engines preload it.
        await fixture.ExecuteAsync("CREATE EXTENSION citext; CREATE TABLE migrated (id int primary key, note citext); INSERT INTO migrated VALUES (1, 'Seed')", template);
        NpgsqlConnection.ClearAllPools();

        var copy = fixture.NewName("copy");
        await fixture.ExecuteAsync($"CREATE DATABASE {copy} TEMPLATE {template}");
        // The next copy is the spare engine started from the template's dump meanwhile (no client entered the template since).
        var catalog = fixture.Server.Services.Databases;
        await Eventually.WaitUntilAsync(() => catalog.Spare is not null, "a spare copy of the template started", TimeSpan.FromMinutes(2));
        var spare = catalog.Spare!.Value.Engine.Id;
        var second = fixture.NewName("copy");
        await fixture.ExecuteAsync($"CREATE DATABASE {second} TEMPLATE {template}");
        Assert.Equal(spare, catalog.Find(second)!.RunningServices!.Engine.EngineId);
        await using (var connection = await fixture.OpenAsync(second))
            Assert.Equal("seed", await connection.TextAsync("SELECT lower(note) FROM migrated WHERE note = 'SEED'"));
        await using var templateSource = NpgsqlDataSource.Create(fixture.ConnectionString(template, "Pooling=true;Maximum Pool Size=3"));
        await using var copySource = NpgsqlDataSource.Create(fixture.ConnectionString(copy, "Pooling=true;Maximum Pool Size=3"));
        for (var round = 0; round < 3; round++)
        {
            await using (var command = copySource.CreateCommand($"INSERT INTO migrated VALUES ({round + 10}, 'copy')"))
                await command.ExecuteNonQueryAsync();
        }
        await using (var command = copySource.CreateCommand("SELECT count(*) FROM migrated"))
            Assert.Equal(4L, await command.ExecuteScalarAsync());
        await using (var command = templateSource.CreateCommand("SELECT count(*) FROM migrated"))
            Assert.Equal(1L, await command.ExecuteScalarAsync());
        await using (var command = copySource.CreateCommand("SELECT current_database()"))
            Assert.Equal(copy, await command.ExecuteScalarAsync());
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Drop_waits_then_refuses_a_database_in_use_and_force_terminates_its_clients()
    {
        var name = fixture.NewName("busy");
        await fixture.ExecuteAsync($"CREATE DATABASE {name}");
        await using var user = await fixture.OpenAsync(name);
        var inUse = await Assert.ThrowsAsync<PostgresException>(() => fixture.ExecuteAsync($"DROP DATABASE {name}"));
        Assert.Equal("55006", inUse.SqlState);
        Assert.Equal($"database \"{name}\" is being accessed by other users", inUse.MessageText);
        Assert.Equal("There is 1 other session using the database.", inUse.Detail);
        Assert.Equal(1, (int)(await user.ScalarAsync("SELECT 1"))!);

        await fixture.ExecuteAsync($"DROP DATABASE {name} WITH (FORCE)");
        var terminated = await Assert.ThrowsAnyAsync<Exception>(() => user.ScalarAsync("SELECT 1"));
        if (terminated is PostgresException postgres)
            Assert.Equal("57P01", postgres.SqlState);
        Assert.Equal("3D000", (await Assert.ThrowsAsync<PostgresException>(() => fixture.OpenAsync(name))).SqlState);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Notifications_and_advisory_locks_stay_inside_their_database()
    {
        var name = fixture.NewName("events");
        await fixture.ExecuteAsync($"CREATE DATABASE {name}");
        await using var listenerHere = await fixture.OpenAsync(name);
        await using var listenerThere = await fixture.OpenAsync("postgres");
        var heard = new List<string>();
        var heardThere = new List<string>();
        listenerHere.Notification += (_, e) => { lock (heard) heard.Add(e.Payload); };
        listenerThere.Notification += (_, e) => { lock (heardThere) heardThere.Add(e.Payload); };
        await listenerHere.ExecAsync("LISTEN jobs");
        await listenerThere.ExecAsync("LISTEN jobs");

        await fixture.ExecuteAsync("NOTIFY jobs, 'for postgres'");
        await fixture.ExecuteAsync($"NOTIFY jobs, 'for {name}'", name);
        await Eventually.WaitUntilAsync(async () =>
        {
            await listenerHere.ExecAsync("SELECT 1");
            await listenerThere.ExecAsync("SELECT 1");
            lock (heard) lock (heardThere) return heard.Count > 0 && heardThere.Count > 0;
        }, "both listeners heard their database's notification");
        Assert.Equal([$"for {name}"], heard);
        Assert.Equal(["for postgres"], heardThere);

        // The same advisory lock key is a different lock in each database, as in Postgres.
        await using var holder = await fixture.OpenAsync("postgres");
        Assert.True((bool)(await holder.ScalarAsync("SELECT pg_try_advisory_lock(77)"))!);
        Assert.True((bool)(await listenerHere.ScalarAsync("SELECT pg_try_advisory_lock(77)"))!);
        Assert.False((bool)(await listenerThere.ScalarAsync("SELECT pg_try_advisory_lock(77)"))!);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Psql_creates_connects_and_drops_with_the_simple_protocol()
    {
        var name = fixture.NewName("psql");
        var url = fixture.Server.Url;
        var create = await ExternalTool.RunAsync("psql", [url, "-v", "ON_ERROR_STOP=1", "-c", $"CREATE DATABASE {name}"]);
        Assert.True(create.ExitCode == 0, create.All);
        var inside = await ExternalTool.RunAsync("psql", [url[..url.LastIndexOf('/')] + "/" + name, "-Atc", "SELECT current_database()"]);
        Assert.Equal(name, inside.Stdout.Trim());
        var multi = await ExternalTool.RunAsync("psql", [url, "-c", $"DROP DATABASE {name}; SELECT 1"]);
        Assert.Contains("DROP DATABASE cannot run inside a transaction block", multi.All);
        var drop = await ExternalTool.RunAsync("psql", [url, "-v", "ON_ERROR_STOP=1", "-c", $"DROP DATABASE {name}"]);
        Assert.True(drop.ExitCode == 0, drop.All);
        var gone = await ExternalTool.RunAsync("psql", [url[..url.LastIndexOf('/')] + "/" + name, "-c", "SELECT 1"]);
        Assert.Contains($"FATAL:  database \"{name}\" does not exist", gone.All);
    }
}
