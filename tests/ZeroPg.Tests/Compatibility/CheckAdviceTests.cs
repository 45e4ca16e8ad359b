using System.Text.Json;
using Npgsql;
using ZeroPg.Tests.Cli;
using ZeroPg.Tests.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Compatibility;

/// <summary>
/// What `zeropg check` tells a user is run here against a server, claim by claim (src/ZeroPg/Compatibility: DriverFinder's
/// notes and WarningFinder's catalogue). Claims tested elsewhere: zero-cache's initial copy and stream
/// (Replication/Zero/ZeroCacheTests), exported snapshots (Replication/Snapshots/ExportedSnapshotTests), DISCARD inside a
/// script (Sessions/DiscardAllTests), prisma migrate deploy and drizzle-kit (tests/migrations, Migrations/*), the drivers'
/// own suites (Drivers/*).
/// </summary>
public sealed class CheckAdviceTests
{
    [Fact]
    public async Task A_project_with_pg_over_sslmode_require_prisma_migrate_dev_and_zero_is_told_nothing_is_missing()
    {
        using var project = new TempDirectory("zeropg-check");
        await File.WriteAllTextAsync(Path.Combine(project.Path, "package.json"), """
            {
              "name": "app",
              "scripts": { "migrate": "prisma migrate dev", "zero": "zero-cache" },
              "dependencies": { "pg": "^8.16.0", "@prisma/client": "^6.19.0", "@rocicorp/zero": "^1.9.0" },
              "devDependencies": { "prisma": "^6.19.0" }
            }
            """);
        await File.WriteAllTextAsync(Path.Combine(project.Path, ".env"), "DATABASE_URL=postgresql://postgres@127.0.0.1:5432/app?sslmode=require\n");

        var json = await ZeroPgCli.RunAsync(["check", project.Path, "--format", "json"], timeout: TimeSpan.FromSeconds(60));
        var text = await ZeroPgCli.RunAsync(["check", project.Path], timeout: TimeSpan.FromSeconds(60));

        Assert.Equal(0, json.ExitCode);
        Assert.Equal(0, text.ExitCode);
        var report = JsonDocument.Parse(json.Stdout).RootElement;
        Assert.True(report.GetProperty("canRun").GetBoolean());
        var names = report.GetProperty("drivers").EnumerateArray().Select(d => d.GetProperty("name").GetString()!).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["@prisma/client", "@rocicorp/zero", "pg", "prisma"], names);
        // None of the three is said to be missing: TLS, the shadow database, the exported snapshot.
        foreach (var stale in (string[])["has no TLS", "sslmode=require fails", "not available yet", "does not provide", "waits for CREATE DATABASE", "one database"])
            Assert.DoesNotContain(stale, text.Stdout, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("shadow database works", text.Stdout);
        Assert.Contains("exported snapshot", text.Stdout);
        var tls = Assert.Single(report.GetProperty("warnings").EnumerateArray(), w => w.GetProperty("code").GetString() == "tls-required");
        Assert.Contains("--tls self-signed", tls.GetProperty("message").GetString());
    }

    /// <summary>The tls-required advice: `zeropg serve --tls self-signed`, then sslmode=require (and verify-full with its server.crt) connects.</summary>
    [Fact]
    public async Task Sslmode_require_works_with_psql_once_the_server_runs_with_tls_self_signed()
    {
        using var data = new TempDirectory();
        await using var server = await CliProcess.StartReadyAsync("-p", "0", "--db", data.Sub("db"), "--tls", "self-signed");
        var port = server.Ready.GetProperty("port").GetInt32();
        var certificate = server.Ready.GetProperty("tlsCertificate").GetString()!;

        var require = await ExternalTool.RunAsync("psql", [$"host=127.0.0.1 port={port} user=postgres sslmode=require", "-Xc", "\\conninfo"], timeout: TimeSpan.FromSeconds(60));
        Assert.True(require.ExitCode == 0, require.All);
        Assert.Contains("SSL connection (protocol: TLSv1.", require.Stdout);

        var verified = await ExternalTool.RunAsync("psql", [$"host=127.0.0.1 port={port} user=postgres sslmode=verify-full sslrootcert='{certificate}'", "-XAtc", "select 1"], timeout: TimeSpan.FromSeconds(60));
        Assert.True(verified.ExitCode == 0, verified.All);
    }

    /// <summary>The other half of the advice: without a certificate the server refuses SSLRequest, so sslmode=require fails, as on Postgres without ssl.</summary>
    [Fact]
    public async Task Without_a_certificate_sslmode_require_is_refused_as_postgres_without_ssl_refuses_it()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);

        var result = await ExternalTool.RunAsync("psql", [$"host=127.0.0.1 port={server.Port} user=postgres sslmode=require", "-XAtc", "select 1"], timeout: TimeSpan.FromSeconds(60));

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("server does not support SSL", result.Stderr);
    }

    /// <summary>prisma migrate dev's shadow database, as its schema engine makes it: CREATE DATABASE, migrations applied there, DROP DATABASE.</summary>
    [Fact]
    public async Task A_shadow_database_is_made_with_create_database_used_and_dropped()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        var main = new NpgsqlConnectionStringBuilder(server.GetConnectionString()) { Pooling = false };
        var shadow = $"prisma_migrate_shadow_db_{Guid.NewGuid()}";

        await using (var connection = new NpgsqlConnection(main.ConnectionString))
        {
            await connection.OpenAsync();
            await Execute(connection, "create table app_table(id int primary key)");
            await Execute(connection, $"CREATE DATABASE \"{shadow}\"");
        }
        await using (var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(main.ConnectionString) { Database = shadow }.ConnectionString))
        {
            await connection.OpenAsync();
            await Execute(connection, "CREATE TABLE \"User\" (id SERIAL PRIMARY KEY, email TEXT NOT NULL); CREATE UNIQUE INDEX \"User_email_key\" ON \"User\"(email)");
            await using var tables = new NpgsqlCommand("select string_agg(table_name, ',' order by table_name) from information_schema.tables where table_schema = 'public'", connection);
            Assert.Equal("User", await tables.ExecuteScalarAsync()); // a database of its own: the main database's table is not there
        }
        await using (var connection = new NpgsqlConnection(main.ConnectionString))
        {
            await connection.OpenAsync();
            await Execute(connection, $"DROP DATABASE IF EXISTS \"{shadow}\"");
            await using var left = new NpgsqlCommand($"select count(*) from pg_database where datname = '{shadow}'", connection);
            Assert.Equal(0L, await left.ExecuteScalarAsync());
            await using var kept = new NpgsqlCommand("select count(*) from app_table", connection);
            Assert.Equal(0L, await kept.ExecuteScalarAsync());
        }
    }

    [Fact]
    public async Task The_warnings_catalogue_holds_against_a_server()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        var connectionString = new NpgsqlConnectionStringBuilder(server.GetConnectionString()) { Pooling = false }.ConnectionString;
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();

        // fdw: file_fdw is there, but a host file cannot be read through it; postgres_fdw and dblink are not shipped.
        var hostFile = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(hostFile, "on the host\n");
            await Execute(connection, "CREATE EXTENSION file_fdw; CREATE SERVER host_files FOREIGN DATA WRAPPER file_fdw");
            await Execute(connection, $"CREATE FOREIGN TABLE host_file(line text) SERVER host_files OPTIONS (filename '{hostFile}')");
            Assert.Equal("58P01", await FailsAsync(connectionString, "select * from host_file"));
        }
        finally
        {
            File.Delete(hostFile);
        }
        foreach (var missing in (string[])["postgres_fdw", "dblink"])
            Assert.Equal("0A000", await FailsAsync(connectionString, $"CREATE EXTENSION {missing}"));

        // subscription: CREATE SUBSCRIPTION fails (the engine cannot load libpqwalreceiver), and the server goes on serving.
        Assert.NotNull(await FailsAsync(connectionString, "CREATE SUBSCRIPTION s CONNECTION 'host=127.0.0.1 port=1 dbname=postgres' PUBLICATION p WITH (connect = true)"));
        Assert.Equal(1, await Scalar<int>(connection, "select 1"));

        // concurrently: CREATE INDEX CONCURRENTLY works.
        await Execute(connection, "create table items(id int, name text)");
        await Execute(connection, "CREATE INDEX CONCURRENTLY items_name ON items(name)");
        Assert.Equal(1L, await Scalar<long>(connection, "select count(*) from pg_indexes where indexname = 'items_name'"));

        // advisory-lock-in-transaction: per client; a blocking one in a transaction block fails with 55P03 while another client holds it.
        await using var other = new NpgsqlConnection(connectionString);
        await other.OpenAsync();
        await Execute(other, "select pg_advisory_lock(42)");
        Assert.False(await Scalar<bool>(connection, "select pg_try_advisory_lock(42)"));
        await Execute(connection, "begin");
        var blocked = await Assert.ThrowsAsync<PostgresException>(() => Execute(connection, "select pg_advisory_lock(42)"));
        Assert.Equal("55P03", blocked.SqlState);
        await Execute(connection, "rollback");
    }

    /// <summary>The SQLSTATE <paramref name="sql"/> fails with, on a connection of its own: Npgsql closes a connection after an error of class 58 or XX (critical failures to it, on any server), while the server keeps the session (psql and psycopg go on).</summary>
    private static async Task<string> FailsAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        return (await Assert.ThrowsAsync<PostgresException>(() => Execute(connection, sql))).SqlState;
    }

    private static async Task Execute(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<T> Scalar<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
