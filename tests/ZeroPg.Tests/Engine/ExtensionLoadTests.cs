using Npgsql;
using ZeroPg.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Engine;

/// <summary>Bundled extensions load into the running engine wherever Postgres accepts CREATE EXTENSION: no restart.</summary>
public sealed class ExtensionLoadTests
{
    private static async Task<NpgsqlConnection> OpenAsync(ZeroPgServer server)
    {
        var connection = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false;Include Error Detail=true");
        await connection.OpenAsync();
        return connection;
    }

    [Fact]
    public async Task Create_extension_inside_a_transaction_loads_it_without_restarting_the_engine()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        var enginePid = server.EngineId;
        await using var other = await OpenAsync(server);
        await other.ExecAsync("CREATE TEMP TABLE mine(v int); INSERT INTO mine VALUES (7)");
        Assert.True((bool)(await other.ScalarAsync("SELECT pg_try_advisory_lock(72707369)"))!);
        await using var prepared = new NpgsqlCommand("SELECT v FROM mine", other);
        await prepared.PrepareAsync();

        await using var connection = await OpenAsync(server);
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await connection.ExecAsync("CREATE EXTENSION citext; CREATE EXTENSION IF NOT EXISTS pg_trgm");
            await connection.ExecAsync("CREATE EXTENSION \"hstore\"");
            await connection.ExecAsync("CREATE TABLE people(email citext UNIQUE, tags hstore)");
            await connection.ExecAsync("CREATE INDEX people_trgm ON people USING gin ((email::text) gin_trgm_ops)");
            await transaction.CommitAsync();
        }
        await connection.ExecAsync("INSERT INTO people VALUES ('Ann@Example.com', 'a=>1')");
        Assert.Equal(1L, await connection.ScalarAsync("SELECT count(*) FROM people WHERE email = 'ann@example.COM' AND tags -> 'a' = '1'"));
        Assert.True((float)(await connection.ScalarAsync("SELECT similarity('zeropg', 'zeropq')"))! > 0.3);

        Assert.Equal(enginePid, server.EngineId);
        Assert.Equal(0, server.Services.Engine.Restarts);
        // The other client's session objects were never at risk: no restart happened.
        Assert.Equal(7, await prepared.ExecuteScalarAsync());
        Assert.False((bool)(await connection.ScalarAsync("SELECT pg_try_advisory_lock(72707369)"))!);
        Assert.Contains("citext", server.Services.Engine.LoadedExtensions);
    }

    [Fact]
    public async Task Pg_available_extensions_lists_every_bundled_extension_before_any_is_created()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var connection = await OpenAsync(server);
        Assert.Equal("citext,earthdistance,pg_trgm,uuid-ossp,vector", await connection.ScalarAsync(
            "SELECT string_agg(name, ',' ORDER BY name) FROM pg_available_extensions WHERE name IN ('citext', 'earthdistance', 'pg_trgm', 'uuid-ossp', 'vector', 'postgis') AND installed_version IS NULL"));
        Assert.True((long)(await connection.ScalarAsync("SELECT count(*) FROM pg_available_extensions"))! >= 35);
        await connection.ExecAsync("CREATE EXTENSION vector");
        Assert.Equal("[1,2,3]", await connection.ScalarAsync("SELECT '[1,2,3]'::vector::text"));
        Assert.NotNull(await connection.ScalarAsync("SELECT installed_version FROM pg_available_extensions WHERE name = 'vector'"));
    }

    [Fact]
    public async Task Cascade_loads_what_the_control_file_requires_and_a_rolled_back_create_can_be_repeated()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var connection = await OpenAsync(server);
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await connection.ExecAsync("CREATE EXTENSION earthdistance CASCADE");
            await transaction.RollbackAsync();
        }
        Assert.Equal(0L, await connection.ScalarAsync("SELECT count(*) FROM pg_extension WHERE extname IN ('cube', 'earthdistance')"));
        await connection.ExecAsync("CREATE EXTENSION earthdistance CASCADE");
        Assert.Equal(111, await connection.ScalarAsync("SELECT (earth_distance(ll_to_earth(0, 0), ll_to_earth(0, 1)) / 1000)::int"));
        Assert.Equal(2L, await connection.ScalarAsync("SELECT count(*) FROM pg_extension WHERE extname IN ('cube', 'earthdistance')"));
    }

    [Fact]
    public async Task Extensions_created_in_do_blocks_and_prepared_statements_and_updated_with_alter_extension_load()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var connection = await OpenAsync(server);
        await connection.ExecAsync("DO $$ BEGIN EXECUTE 'CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\"'; END $$");
        Assert.Equal(36, ((Guid)(await connection.ScalarAsync("SELECT uuid_generate_v4()"))!).ToString().Length);

        await using (var create = new NpgsqlCommand("CREATE EXTENSION pgcrypto VERSION '1.3'", connection))
        {
            await create.PrepareAsync();
            await create.ExecuteNonQueryAsync();
        }
        await connection.ExecAsync("ALTER EXTENSION pgcrypto UPDATE");
        Assert.Equal("1.4", await connection.ScalarAsync("SELECT extversion FROM pg_extension WHERE extname = 'pgcrypto'"));
        Assert.Equal(0, server.Services.Engine.Restarts);
    }

    [Fact]
    public async Task An_extension_PGlite_does_not_ship_fails_with_zeropgs_error_and_the_transaction_behaves_as_in_postgres()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var connection = await OpenAsync(server);
        var error = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecAsync("CREATE EXTENSION IF NOT EXISTS postgis"));
        Assert.Equal("0A000", error.SqlState);
        Assert.Equal("extension \"postgis\" is not available", error.MessageText);
        Assert.Contains("PGlite", error.Detail);
        Assert.Contains("native PostgreSQL", error.Hint);

        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await Assert.ThrowsAsync<PostgresException>(() => connection.ExecAsync("CREATE EXTENSION postgis"));
            var aborted = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecAsync("SELECT 1"));
            Assert.Equal("25P02", aborted.SqlState);
        }
        Assert.Equal(1L, await connection.ScalarAsync("SELECT 1::bigint"));
    }

    [Fact]
    public async Task A_data_directory_remembers_an_extension_loaded_on_demand()
    {
        using var directory = new TempDirectory();
        var options = new ZeroPgOptions { DataDirectory = directory.Sub("db") };
        await using (var server = await ZeroPgServer.StartAsync(options, TestLogging.Factory))
        {
            await using var connection = await OpenAsync(server);
            await connection.ExecAsync("BEGIN; CREATE EXTENSION citext; CREATE TABLE t(v citext); INSERT INTO t VALUES ('Mixed'); COMMIT");
        }
        Assert.Contains("citext", await File.ReadAllTextAsync(Path.Combine(options.DataDirectory, ".zeropg.json")));
        await using (var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = options.DataDirectory }, TestLogging.Factory))
        {
            await using var connection = await OpenAsync(server);
            Assert.Equal("Mixed", await connection.ScalarAsync("SELECT v::text FROM t WHERE v = 'MIXED'"));
        }
    }

    [Theory]
    [InlineData("CREATE EXTENSION citext", "citext")]
    [InlineData("create extension if not exists \"uuid-ossp\" with schema public", "uuid-ossp")]
    [InlineData("ALTER EXTENSION Vector UPDATE TO '0.8.1'", "vector")]
    [InlineData("DO $$ BEGIN CREATE EXTENSION IF NOT EXISTS pg_trgm; EXCEPTION WHEN others THEN NULL; END $$", "pg_trgm")]
    [InlineData("-- CREATE EXTENSION postgis\nSELECT 1", "")]
    [InlineData("DROP EXTENSION citext", "")]
    public void Statements_that_need_an_extensions_files_are_found(string sql, string expected)
        => Assert.Equal(expected, string.Join(",", ExtensionStatements.Find(sql)));
}
