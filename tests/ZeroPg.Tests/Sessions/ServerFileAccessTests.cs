using Npgsql;
using ZeroPg.Tests.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>
/// The engine's file system is the data directory itself: SQL that reads, writes, lists or stats server files is refused
/// with 42501 and a hint (COPY TO STDOUT / FROM STDIN, client-side large objects), and the next start is not broken.
/// </summary>
public sealed class ServerFileAccessTests
{
    private static readonly string[] Refused =
    [
        "COPY files_t TO '/pglite/data/.zeropg.json'",
        "COPY files_t FROM '/pglite/data/postgresql.conf'",
        "COPY (SELECT 'x') TO '/pglite/data/postgresql.auto.conf'",
        "COPY files_t TO E'/pglite/data/PG_VERSION' WITH (FORMAT csv)",
        "SELECT pg_read_file('postgresql.conf')",
        "SELECT pg_catalog.pg_read_binary_file('/pglite/data/PG_VERSION')",
        "SELECT * FROM pg_ls_dir('.')",
        "SELECT (pg_stat_file('PG_VERSION')).size",
        "SELECT lo_import('/pglite/data/postgresql.conf')",
        "SELECT lo_export(lo_create(0), '/pglite/data/.zeropg.json')",
        "ALTER SYSTEM SET work_mem = '1TB'",
        "DO $$BEGIN EXECUTE 'COPY files_t TO ''/pglite/data/.zeropg.json'''; END$$",
        "DO $body$BEGIN PERFORM pg_read_file('postgresql.conf'); END$body$",
    ];

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Server_file_access_is_refused_and_the_next_start_is_not_broken()
    {
        using var directory = new TempDirectory();
        var db = directory.Sub("db");
        await using (var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = db }, TestLogging.Factory))
        {
            await using var connection = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
            await connection.OpenAsync();
            await connection.ExecAsync("CREATE TABLE files_t(x text); INSERT INTO files_t VALUES ('kept')");
            foreach (var sql in Refused)
            {
                var error = await Record.ExceptionAsync(() => connection.ScalarAsync(sql)) as PostgresException;
                Assert.True(error?.SqlState == "42501", $"{sql}: {error?.SqlState} {error?.MessageText}");
                Assert.Contains("STDOUT", error!.Hint);
            }
            // Through Parse/Bind (a parameter makes Npgsql use the extended protocol) and with psql.
            await using (var parameterized = new NpgsqlCommand("SELECT pg_read_file($1)", connection))
            {
                parameterized.Parameters.AddWithValue("postgresql.conf");
                Assert.Equal("42501", (await Assert.ThrowsAsync<PostgresException>(() => parameterized.ExecuteScalarAsync())).SqlState);
            }
            var psql = await ExternalTool.RunAsync("psql", [server.Url, "-X", "-c", "copy files_t to '/pglite/data/.zeropg.json'"]);
            Assert.Contains("ERROR:  permission denied", psql.Stderr);

            // What is allowed still works: COPY through the client, client-side large objects.
            Assert.Equal(1L, await connection.ScalarAsync("SELECT count(*) FROM files_t"));
            await using (var export = await connection.BeginTextExportAsync("COPY files_t TO STDOUT"))
                Assert.Equal("kept", (await export.ReadToEndAsync()).Trim());
        }
        await using var again = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = db }, TestLogging.Factory);
        await using var reopened = new NpgsqlConnection(again.GetConnectionString() + ";Pooling=false");
        await reopened.OpenAsync();
        Assert.Equal("kept", await reopened.ScalarAsync("SELECT x FROM files_t"));
    }

    [Fact]
    public async Task Psql_client_side_large_objects_still_work()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        using var directory = new TempDirectory();
        var source = directory.Sub("in.txt");
        await File.WriteAllTextAsync(source, "large object body");
        var import = await ExternalTool.RunAsync("psql", [server.Url, "-X", "-c", $"\\lo_import '{source}'"]);
        Assert.True(import.ExitCode == 0, import.Stderr);
        Assert.StartsWith("lo_import ", import.Stdout.Trim());
    }
}
