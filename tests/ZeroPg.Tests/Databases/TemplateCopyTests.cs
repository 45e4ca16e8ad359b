using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Databases;

/// <summary>
/// CREATE DATABASE ... TEMPLATE copies what Postgres copies, unlogged tables' rows too: the copy comes from a cluster as
/// after a clean shutdown (memory://: the tar the template sleeps in; on disk: its directory once its engine stopped). The
/// same statements run on native PostgreSQL 15, the reference.
/// </summary>
[Collection(NativePostgresCollection.Name)]
public sealed class TemplateCopyTests(NativePostgres native)
{
    [Fact]
    public async Task A_copy_of_a_memory_template_has_its_unlogged_rows_as_on_native_PostgreSQL_15()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var zeropg = await CopyTwiceAsync((database, sql) => server.TextAsync(database, sql), suffix);
        var reference = await CopyTwiceAsync((database, sql) => NativeTextAsync(database, sql), suffix);

        Assert.Equal(["2|7", "2|7", "3|7", "3|7", "2|7"], reference);
        Assert.Equal(reference, zeropg);
    }

    [Fact]
    public async Task A_copy_of_a_template_on_disk_has_its_unlogged_rows_as_on_native_PostgreSQL_15()
    {
        var directory = Directory.CreateTempSubdirectory("zeropg-template-copy-");
        try
        {
            await using (var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = directory.FullName }, TestLogging.Factory))
            {
                var suffix = Guid.NewGuid().ToString("N")[..8];
                var zeropg = await CopyTwiceAsync((database, sql) => server.TextAsync(database, sql), suffix);
                var reference = await CopyTwiceAsync((database, sql) => NativeTextAsync(database, sql), suffix);
                Assert.Equal(["2|7", "2|7", "3|7", "3|7", "2|7"], reference);
                Assert.Equal(reference, zeropg);

                // Copies still taken from a dump of a running engine on disk (postgres as the template; a session connected
                // to its own template): they are made, with the logged rows (unlogged ones come back empty, as documented).
                await server.ExecAsync("postgres", "CREATE TABLE kept_in_postgres (n int); INSERT INTO kept_in_postgres VALUES (1)");
                await server.ExecAsync("postgres", "CREATE DATABASE from_postgres TEMPLATE postgres");
                Assert.Equal("1", await server.TextAsync("from_postgres", "SELECT count(*) FROM kept_in_postgres"));
                await server.ExecAsync("from_postgres", "CREATE DATABASE from_itself TEMPLATE from_postgres");
                Assert.Equal("1", await server.TextAsync("from_itself", "SELECT count(*) FROM kept_in_postgres"));
            }
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_database_made_from_template1_has_its_unlogged_rows()
    {
        // As on Postgres (not run on the shared native server: template1 there is every test's template). template1 is copied
        // by a preparation engine (CREATE DATABASE inside its cluster), whose shutdown writes the copy's cluster.
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await server.ExecAsync("template1", "CREATE UNLOGGED TABLE scratch (n int); INSERT INTO scratch VALUES (1), (2); CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)");
        await server.ExecAsync("postgres", "CREATE DATABASE from_template1");
        Assert.Equal("2|7", await server.TextAsync("from_template1", "SELECT (SELECT count(*) FROM scratch) || '|' || (SELECT sum(n) FROM kept)"));
        Assert.Equal("2|7", await server.TextAsync("template1", "SELECT (SELECT count(*) FROM scratch) || '|' || (SELECT sum(n) FROM kept)"));
    }

    /// <summary>
    /// A template with logged and unlogged rows, copied; a row added to the template, copied again. Returns each database's
    /// "unlogged rows|logged sum": the first copy, the template after it, the second copy, the template, the first copy again.
    /// </summary>
    private static async Task<List<string>> CopyTwiceAsync(Func<string, string, Task<string>> text, string suffix)
    {
        var (template, first, second) = ($"tpl_{suffix}", $"copy1_{suffix}", $"copy2_{suffix}");
        const string Counts = "SELECT (SELECT count(*) FROM scratch) || '|' || (SELECT sum(n) FROM kept)";
        await text("postgres", $"CREATE DATABASE {template}");
        await text(template, "CREATE UNLOGGED TABLE scratch (n int); INSERT INTO scratch VALUES (1), (2); CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)");
        await text("postgres", $"CREATE DATABASE {first} TEMPLATE {template}");
        List<string> seen = [await text(first, Counts), await text(template, Counts)];
        await text(template, "INSERT INTO scratch VALUES (3)");
        await text("postgres", $"CREATE DATABASE {second} TEMPLATE {template}");
        seen.AddRange([await text(second, Counts), await text(template, Counts), await text(first, Counts)]);
        foreach (var name in new[] { second, first, template })
            await text("postgres", $"DROP DATABASE {name}");
        return seen;
    }

    private async Task<string> NativeTextAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(native.ConnectionString(database));
        await connection.OpenAsync();
        return await connection.TextAsync(sql);
    }
}
