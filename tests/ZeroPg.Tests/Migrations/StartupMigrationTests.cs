using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Npgsql;
using ZeroPg.Tests.Cli;
using ZeroPg.Tests.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Migrations;

/// <summary>--migrations: a real Prisma history applied before the server is ready, in Prisma's own ledger.</summary>
public sealed class StartupMigrationTests
{
    internal static string Corpus(params string[] path)
        => Path.Combine([RepoPaths.Root, "tests", "ZeroPg.Tests", "Compatibility", "Corpus", .. path]);

    internal static string Rallly => Corpus("rallly", "packages", "database", "prisma", "migrations");
    internal static string Documenso => Corpus("documenso", "packages", "prisma", "migrations");

    [Fact]
    public async Task A_prisma_history_with_extensions_is_applied_before_the_ready_line_as_prisma_migrate_deploy_records_it()
    {
        using var directory = new TempDirectory();
        var db = directory.Sub("data");
        string[] arguments = ["--db", db, "--port", "0", "--extensions", "auto", "--migrations", Rallly];
        await using (var cli = await CliProcess.StartReadyAsync(arguments))
        {
            // No engine restart happened for citext/pgcrypto. (The console logger writes on its own thread: poll for the lines.)
            await WaitForAsync(() => cli.Stderr.Contains("migrations: 145 applied, 0 already applied (of 145)"));
            Assert.Contains("--extensions auto: citext, pgcrypto", cli.Stderr);
            Assert.DoesNotContain("restart", cli.Stderr, StringComparison.OrdinalIgnoreCase);
            // The ready line only after the last migration: in the log, the last migration, the summary, then "ZeroPg ready".
            await WaitForAsync(() => cli.Stderr.Contains("ZeroPg ready: "));
            var log = cli.Stderr;
            var lastMigration = log.IndexOf($"migration 145/145 {Path.GetFileName(Directory.GetDirectories(Rallly).Order(StringComparer.Ordinal).Last())} applied in ", StringComparison.Ordinal);
            var summary = log.IndexOf("migrations: 145 applied", StringComparison.Ordinal);
            var ready = log.IndexOf("ZeroPg ready: ", StringComparison.Ordinal);
            Assert.True(lastMigration >= 0 && lastMigration < summary && summary < ready, log);
            Assert.Equal(-1, log.IndexOf("migration ", ready, StringComparison.Ordinal));

            await using var connection = new NpgsqlConnection(cli.ConnectionString);
            await connection.OpenAsync();
            var folders = Directory.GetDirectories(Rallly).Order(StringComparer.Ordinal).ToList();
            await using var command = new NpgsqlCommand(
                "SELECT id, checksum, migration_name, started_at, finished_at, logs, rolled_back_at, applied_steps_count FROM _prisma_migrations ORDER BY started_at, migration_name", connection); // PGlite's clock has millisecond resolution
            await using var reader = await command.ExecuteReaderAsync();
            var index = 0;
            DateTime previous = default;
            while (await reader.ReadAsync())
            {
                var folder = folders[index++];
                Assert.True(Guid.TryParse(reader.GetString(0), out _));
                Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(folder, "migration.sql")))), reader.GetString(1));
                Assert.Equal(Path.GetFileName(folder), reader.GetString(2));
                var (started, finished) = (reader.GetDateTime(3), reader.GetDateTime(4));
                Assert.True(started <= finished && started >= previous);
                previous = finished;
                Assert.True(reader.IsDBNull(5) && reader.IsDBNull(6));
                Assert.Equal(1, reader.GetInt32(7));
            }
            Assert.Equal(145, index);
            await reader.DisposeAsync();
            Assert.Equal(2L, await connection.ScalarAsync("SELECT count(*) FROM pg_extension WHERE extname IN ('citext', 'pgcrypto')"));
            Assert.Equal(false, await connection.ScalarAsync("SELECT pg_try_advisory_lock(72707369) IS NULL")); // the lock was released
        }
        await using (var again = await CliProcess.StartReadyAsync(arguments))
            await WaitForAsync(() => again.Stderr.Contains("migrations: 0 applied, 145 already applied (of 145)"));
    }

    private static Task WaitForAsync(Func<bool> condition)
        => Eventually.WaitUntilAsync(condition, "the CLI's report of the migrations", TimeSpan.FromSeconds(5));

    [Fact]
    public async Task Clients_that_connect_during_the_migrations_wait_and_readyz_says_503_until_they_are_done()
    {
        var options = new ZeroPgOptions { Port = FreePort(), HttpPort = FreePort(), MigrationFolders = [Documenso] };
        var start = ZeroPgServer.StartAsync(options, TestLogging.Factory);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{options.HttpPort}") };
        var notReady = 0;
        // Retried while Kestrel is not listening yet (a refused connection).
        var seen = await Eventually.SucceedsAsync(async () =>
        {
            var status = (await http.GetAsync("/readyz")).StatusCode;
            if (status == HttpStatusCode.ServiceUnavailable)
                notReady++;
            // The wire port accepts now: a client that connects waits for the migrations to finish.
            await using var connection = new NpgsqlConnection($"Host=127.0.0.1;Port={options.Port};Username=postgres;Pooling=false;Timeout=60;Command Timeout=120");
            await connection.OpenAsync();
            return (long)(await connection.ScalarAsync("SELECT count(*) FROM _prisma_migrations WHERE finished_at IS NOT NULL"))!;
        }, error => error is HttpRequestException, TimeSpan.FromMinutes(2), TimeSpan.FromMilliseconds(20));
        await using var server = await start;
        Assert.Equal(163L, seen);
        Assert.True(notReady > 0, "/readyz should answer 503 while the migrations run");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz")).StatusCode);
    }

    [Fact]
    public async Task A_failing_migration_stops_the_start_with_the_file_the_statement_and_postgres_error_and_applies_nothing_of_it()
    {
        using var directory = new TempDirectory();
        var folder = directory.Sub("migrations");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "0001_init.sql"), "CREATE TABLE t(id int PRIMARY KEY);\n");
        File.WriteAllText(Path.Combine(folder, "0002_fill.sql"), "INSERT INTO t VALUES (1);\nCREATE TABLE u(v int);\n\nINSERT INTO t VALUES (1);\nINSERT INTO t VALUES (2);\n");
        var db = directory.Sub("data");

        var (code, _, stderr) = await CliRun.RunAsync("migrate", folder, "--db", db);
        Assert.Equal(1, code);
        Assert.Contains($"{Path.Combine(folder, "0002_fill.sql")}:4 failed: ERROR 23505: duplicate key value violates unique constraint \"t_pkey\"", stderr);
        Assert.Contains("statement: INSERT INTO t VALUES (1);", stderr);
        Assert.Contains("DETAIL: Key (id)=(1) already exists.", stderr);

        File.WriteAllText(Path.Combine(folder, "0002_fill.sql"), "INSERT INTO t VALUES (1);\nCREATE TABLE u(v int);\n");
        await using (var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = db, MigrationFolders = [folder] }, TestLogging.Factory))
        {
            await using var connection = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
            await connection.OpenAsync();
            Assert.Equal("0001_init.sql,0002_fill.sql", await connection.ScalarAsync("SELECT string_agg(version, ',' ORDER BY version) FROM zeropg_migrations"));
            Assert.Equal(1L, await connection.ScalarAsync("SELECT count(*) FROM t"));
        }

        // A changed applied file is an error, as Flyway's validate makes it.
        File.AppendAllText(Path.Combine(folder, "0001_init.sql"), "ALTER TABLE t ADD COLUMN x int;\n");
        var changed = await Assert.ThrowsAnyAsync<Exception>(() => ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = db, MigrationFolders = [folder] }, TestLogging.Factory));
        Assert.Contains("0001_init.sql: this migration was applied", changed.Message);
        Assert.Contains("has been changed since", changed.Message);
    }

    [Fact]
    public async Task A_failed_prisma_migration_is_recorded_as_prisma_records_it_and_the_next_start_refuses_as_prisma_does()
    {
        using var directory = new TempDirectory();
        var folder = directory.Sub("prisma-migrations");
        Directory.CreateDirectory(Path.Combine(folder, "20240101000000_init"));
        Directory.CreateDirectory(Path.Combine(folder, "20240102000000_broken"));
        File.WriteAllText(Path.Combine(folder, "20240101000000_init", "migration.sql"), "CREATE TABLE \"User\" (id int PRIMARY KEY);\n");
        File.WriteAllText(Path.Combine(folder, "20240102000000_broken", "migration.sql"), "ALTER TABLE \"User\" ADD COLUMN name text;\nALTER TABLE \"Missing\" ADD COLUMN x int;\n");
        var options = new ZeroPgOptions { DataDirectory = directory.Sub("data"), MigrationFolders = [folder] };

        var failed = await Assert.ThrowsAsync<ZeroPg.Migrations.MigrationFailedException>(() => ZeroPgServer.StartAsync(options, TestLogging.Factory));
        Assert.Contains("20240102000000_broken/migration.sql:2 failed: ERROR 42P01: relation \"Missing\" does not exist", failed.Message);
        Assert.Contains("statement: ALTER TABLE \"Missing\" ADD COLUMN x int;", failed.Message);

        var refused = await Assert.ThrowsAsync<ZeroPg.Migrations.MigrationFailedException>(() => ZeroPgServer.StartAsync(options, TestLogging.Factory));
        Assert.Contains("migration 20240102000000_broken failed when it was applied before", refused.Message);
        Assert.Contains("P3009", refused.Message);

        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = options.DataDirectory }, TestLogging.Factory);
        await using var connection = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await connection.OpenAsync();
        Assert.Equal("20240101000000_init:1:true,20240102000000_broken:0:false", await connection.ScalarAsync(
            "SELECT string_agg(migration_name || ':' || applied_steps_count || ':' || (finished_at IS NOT NULL), ',' ORDER BY migration_name) FROM _prisma_migrations"));
        Assert.Contains("relation \"Missing\" does not exist", (string)(await connection.ScalarAsync("SELECT logs FROM _prisma_migrations WHERE finished_at IS NULL"))!);
        Assert.Equal(0L, await connection.ScalarAsync("SELECT count(*) FROM information_schema.columns WHERE table_name = 'User' AND column_name = 'name'"));
    }

    [Fact]
    public async Task Flyway_golang_migrate_and_dbmate_folders_apply_in_their_order()
    {
        using var directory = new TempDirectory();
        var flyway = directory.Sub("flyway");
        var golang = directory.Sub("golang");
        Directory.CreateDirectory(flyway);
        Directory.CreateDirectory(golang);
        File.WriteAllText(Path.Combine(flyway, "V10__third.sql"), "INSERT INTO steps VALUES ('V10');");
        File.WriteAllText(Path.Combine(flyway, "V2__second.sql"), "INSERT INTO steps VALUES ('V2');");
        File.WriteAllText(Path.Combine(flyway, "V1__first.sql"), "CREATE TABLE steps(name text, at timestamptz DEFAULT clock_timestamp());");
        File.WriteAllText(Path.Combine(golang, "000001_a.up.sql"), "INSERT INTO steps VALUES ('g1');");
        File.WriteAllText(Path.Combine(golang, "000001_a.down.sql"), "DELETE FROM steps;");
        File.WriteAllText(Path.Combine(golang, "000002_dbmate.sql"), "-- migrate:up\nINSERT INTO steps VALUES ('g2');\n-- migrate:down\nDELETE FROM steps WHERE name = 'g2';\n");

        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { MigrationFolders = [flyway, golang] }, TestLogging.Factory);
        await using var connection = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await connection.OpenAsync();
        Assert.Equal("V2,V10,g1,g2", await connection.ScalarAsync("SELECT string_agg(name, ',' ORDER BY at) FROM steps"));
        Assert.Equal("1,2,10,000001_a.up.sql,000002_dbmate.sql", await connection.ScalarAsync("SELECT string_agg(version, ',' ORDER BY applied_at) FROM zeropg_migrations"));
    }

    [Fact]
    public async Task Zeropg_migrate_url_applies_over_the_wire_and_a_second_run_is_a_no_op()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        var (code, _, stderr) = await CliRun.RunAsync("migrate", Documenso, "--url", server.Url);
        Assert.True(code == 0, stderr);
        Assert.Contains("migrations: 163 applied, 0 already applied (of 163)", stderr);
        (code, _, stderr) = await CliRun.RunAsync("migrate", Documenso, "--url", server.Url);
        Assert.True(code == 0, stderr);
        Assert.Contains("migrations: 0 applied, 163 already applied (of 163)", stderr);
        await using var connection = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await connection.OpenAsync();
        Assert.Equal(163L, await connection.ScalarAsync("SELECT count(*) FROM _prisma_migrations WHERE finished_at IS NOT NULL AND applied_steps_count = 1"));
        Assert.Equal(2L, await connection.ScalarAsync("SELECT count(*) FROM pg_extension WHERE extname IN ('pgcrypto', 'pg_trgm')"));
        Assert.Equal(0, server.Services.Engine.Restarts);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
