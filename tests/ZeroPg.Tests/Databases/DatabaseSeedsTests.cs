using ZeroPg.Testing;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Databases;

/// <summary>
/// The seeds new databases start from are kept in the snapshot cache, one file per machine: servers that make the same seed at
/// the same time (two test classes' fixtures in one test process, on a machine whose cache is still empty) must each get it whole.
/// </summary>
public sealed class DatabaseSeedsTests
{
    [Fact]
    public async Task Two_servers_in_one_process_create_their_first_databases_at_once_with_an_empty_cache()
    {
        var cache = Directory.CreateTempSubdirectory("zeropg-seeds-cache-").FullName;
        // The machine's fresh-cluster snapshots (hard links: the servers only read them; a symbolic link's own size fails the
        // cache's check) and no database seed, so the servers start in a second or two and only the seed is missing. On a machine
        // whose cache is empty (or elsewhere) they run initdb first: slower, and as much to the point.
        var machineCache = ZeroPg.Storage.SnapshotCache.RootDirectory(null);
        if (Directory.Exists(machineCache))
        {
            foreach (var snapshot in Directory.EnumerateFiles(machineCache, "pglite-*.tar").Where(f => !f.EndsWith(".database.tar", StringComparison.Ordinal)))
                _ = HardLink(snapshot, Path.Combine(cache, Path.GetFileName(snapshot)));
        }
        using var logs = new CapturedLogs();
        // Three: the more servers forge the seed at once, the likelier the collision that once closed a fixture's connection.
        var containers = Enumerable.Range(0, 3)
            .Select(_ => new ZeroPgBuilder().WithPassword("pw").WithOptions(o => o.SnapshotCacheDirectory = cache).Build())
            .ToArray();
        try
        {
            await Task.WhenAll(containers.Select(c => c.StartAsync(logs.Factory)));
            // As the samples' fixtures do (through ExecScriptAsync's loopback session): each server's first CREATE DATABASE needs the
            // machine's empty-database seed, which is not made yet. Before each dump had a file of its own, one server's rename took
            // the other's file away and the loopback session was closed without a word ("the server closed the connection").
            var created = await Task.WhenAll(containers.Select(async c =>
            {
                try
                {
                    return await c.CreateDatabaseAsync(name: "shop_template");
                }
                catch (Exception error)
                {
                    throw new InvalidOperationException($"{error.Message}; the servers logged:\n{string.Join('\n', logs.Messages)}", error);
                }
            }));
            foreach (var (container, connectionString) in containers.Zip(created))
            {
                Assert.Contains("Database=\"shop_template\"", connectionString);
                var made = await container.Server.ExecScriptAsync("create table t (x int); insert into t values (1); select count(*) from t", "shop_template");
                Assert.True(made.ExitCode == 0, made.Stderr);
                Assert.Equal("1\n", made.Stdout);
            }
        }
        finally
        {
            foreach (var container in containers)
                await container.DisposeAsync();
            Directory.Delete(cache, recursive: true);
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "link", SetLastError = true)]
    private static extern int HardLink(string existing, string link);
}
