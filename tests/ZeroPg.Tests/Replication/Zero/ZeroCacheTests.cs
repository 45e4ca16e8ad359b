using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Replication.Zero;

/// <summary>
/// zero-cache 1.9 (npm @rocicorp/zero, its Node 22) against a ZeroPg server, on memory:// and on a data directory: initial sync
/// through an exported snapshot, then inserts, updates, deletes, a multi-statement transaction and an ALTER TABLE (its DDL
/// message comes from its event trigger functions) streamed into its SQLite replica, and a restart of zero-cache that resumes
/// after its confirmed position (changes made while it was down arrive once, nothing is copied again).
/// </summary>
[TakesAbout(60)]
public class ZeroCacheTests
{
    private static readonly TimeSpan Sync = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan Change = TimeSpan.FromSeconds(60);

    [Fact]
    public Task Zero_cache_syncs_streams_and_resumes_after_a_restart_on_a_data_directory() => RunAsync(dataDirectory: true);

    /// <summary>The same on memory:// (the same replication path without the WAL on disk): the Slow run, for the default run's CPU time.</summary>
    [Fact]
    [Trait("Category", "Slow")]
    public Task Zero_cache_syncs_streams_and_resumes_after_a_restart_on_memory() => RunAsync(dataDirectory: false);

    private static async Task RunAsync(bool dataDirectory)
    {
        ZeroCacheProcess.RequireInstalled();
        var work = Path.Combine(Path.GetTempPath(), "zeropg-zero-" + Guid.NewGuid().ToString("N"));
        var options = new ZeroPgOptions { MaxConnections = 200 };
        if (dataDirectory)
            options.DataDirectory = Path.Combine(work, "data");
        await using var server = await ZeroPgServer.StartAsync(options, TestLogging.Factory);
        await using (var c = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false"))
        {
            await c.OpenAsync();
            await c.ExecAsync("CREATE DATABASE zero_cvr");
            await c.ExecAsync("CREATE DATABASE zero_cdb");
            await c.ExecAsync("CREATE TABLE items (id int PRIMARY KEY, name text, qty int NOT NULL);"
                + " INSERT INTO items SELECT g, 'item ' || g, g FROM generate_series(1, 200) g");
        }
        var baseUrl = $"postgresql://postgres@127.0.0.1:{server.Port}";
        var count = "SELECT count(*) AS n, sum(qty) AS s FROM items";
        try
        {
            await using (var zero = ZeroCacheProcess.Start(baseUrl, work))
            {
                var clock = Stopwatch.StartNew();
                await zero.WaitForAsync(count, """[{"n":200,"s":20100}]""", Sync);
                TestLogging.Factory.CreateLogger("ZeroCacheTests").LogInformation("zero-cache initial sync of 200 rows seen after {Seconds:0.0} s", clock.Elapsed.TotalSeconds);

                await using var c = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
                await c.OpenAsync();
                await c.ExecAsync("INSERT INTO items VALUES (201, 'new', 1)");
                await c.ExecAsync("UPDATE items SET qty = 1000, name = 'changed' WHERE id = 5");
                await c.ExecAsync("DELETE FROM items WHERE id = 6");
                await c.ExecAsync("BEGIN; INSERT INTO items VALUES (202, 'tx', 2); UPDATE items SET qty = qty + 1 WHERE id <= 3; DELETE FROM items WHERE id = 7; COMMIT");
                await zero.WaitForAsync("SELECT id, name, qty FROM items WHERE id IN (1, 5, 6, 7, 201, 202) ORDER BY id",
                    """[{"id":1,"name":"item 1","qty":2},{"id":5,"name":"changed","qty":1000},{"id":201,"name":"new","qty":1},{"id":202,"name":"tx","qty":2}]""", Change);
                await zero.WaitForAsync(count, """[{"n":200,"s":21088}]""", Change);

                await c.ExecAsync("ALTER TABLE items ADD COLUMN note text");
                await c.ExecAsync("UPDATE items SET note = 'noted' WHERE id = 8");
                await zero.WaitForAsync("SELECT id, note FROM items WHERE id = 8", """[{"id":8,"note":"noted"}]""", Change);
            }

            // zero-cache stopped: what happens now arrives when it comes back, from its confirmed position (no new initial sync).
            await using (var c = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false"))
            {
                await c.OpenAsync();
                await c.ExecAsync("INSERT INTO items VALUES (203, 'while down', 3, NULL); DELETE FROM items WHERE id = 9; UPDATE items SET note = 'again' WHERE id = 8");
            }
            await using (var zero = ZeroCacheProcess.Start(baseUrl, work))
            {
                await zero.WaitForAsync(count, """[{"n":200,"s":21082}]""", Sync);
                await zero.WaitForAsync("SELECT id, name, note FROM items WHERE id IN (8, 203) ORDER BY id",
                    """[{"id":8,"name":"item 8","note":"again"},{"id":203,"name":"while down","note":null}]""", Change);
            }
            var log = await File.ReadAllTextAsync(Path.Combine(work, "zero-cache.log"));
            Assert.Equal(1, CountOf(log, "Synced 2")); // one initial sync (200 rows + its permissions row): the restart resumed
            Assert.Contains("started replication stream@zapp_0_a from", log);
            Directory.Delete(work, recursive: true);
        }
        catch
        {
            TestLogging.Factory.CreateLogger("ZeroCacheTests").LogError("zero-cache's log is kept in {Work}", work);
            throw;
        }
    }

    private static int CountOf(string text, string what)
    {
        var count = 0;
        for (var at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + 1, StringComparison.Ordinal))
            count++;
        return count;
    }
}
