using System.Diagnostics;
using Npgsql;
using Xunit.Abstractions;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Engine;

public sealed class SnapshotCacheTests(ITestOutputHelper output)
{
    [Fact]
    [Trait("Category", "Slow")]
    public async Task Second_start_uses_the_snapshot_and_a_corrupt_snapshot_is_rebuilt()
    {
        using var cache = new TempDirectory();
        using var logs = new CapturedLogs();
        var first = await TimeToFirstQueryAsync(cache.Path, ZeroPgOptions.MemoryDatabase, logs.Factory);
        // The slow first start says so while it runs (zeropg serve prints it on stderr), and only the first.
        Assert.Single(logs.Messages, m => m.Contains("running initdb once", StringComparison.Ordinal));
        var snapshot = Assert.Single(Directory.GetFiles(cache.Path, "*.tar"));
        Assert.True(new FileInfo(snapshot).Length > 1 << 20);
        var expired = Path.Combine(cache.Path, "pglite-0.0.1-expired.tar");
        var crashedWrite = Path.Combine(cache.Path, "pglite-0.0.1-expired.tar.99.tmp");
        foreach (var leftover in new[] { expired, crashedWrite })
        {
            await File.WriteAllBytesAsync(leftover, [1]);
            File.SetLastWriteTimeUtc(leftover, DateTime.UtcNow - TimeSpan.FromDays(60));
        }
        File.SetLastWriteTimeUtc(snapshot, DateTime.UtcNow - TimeSpan.FromDays(60));
        var second = await TimeToFirstQueryAsync(cache.Path, ZeroPgOptions.MemoryDatabase, logs.Factory);
        Assert.Single(logs.Messages, m => m.Contains("running initdb once", StringComparison.Ordinal));
        Assert.False(File.Exists(expired), "a start prunes snapshots long unused");
        Assert.False(File.Exists(crashedWrite), "a start prunes temp files of crashed writers");
        Assert.True(File.GetLastWriteTimeUtc(snapshot) > DateTime.UtcNow - TimeSpan.FromMinutes(5), "a start from the snapshot marks it used");
        output.WriteLine($"time to first query: cold cache {first.TotalMilliseconds:0} ms, warm cache {second.TotalMilliseconds:0} ms");
        Assert.True(second < first, $"warm {second} should beat cold {first}");

        // Looks like a tar (magic, size) but is not a data directory: the engine fails, initdb runs, the file is rebuilt.
        var junk = new byte[2 << 20];
        "ustar"u8.CopyTo(junk.AsSpan(257));
        await File.WriteAllBytesAsync(snapshot, junk);
        await TimeToFirstQueryAsync(cache.Path, ZeroPgOptions.MemoryDatabase);
        Assert.NotEqual(junk.Length, new FileInfo(snapshot).Length);
        Assert.Empty(Directory.GetFiles(cache.Path, "*.tmp"));
    }

    [Fact]
    public async Task A_new_data_directory_is_seeded_from_the_snapshot()
    {
        using var directory = new TempDirectory();
        var elapsed = await TimeToFirstQueryAsync(null, directory.Sub("db"));
        output.WriteLine($"new on-disk directory: first query after {elapsed.TotalMilliseconds:0} ms");
        Assert.True(File.Exists(Path.Combine(directory.Sub("db"), "PG_VERSION")));
    }

    private static async Task<TimeSpan> TimeToFirstQueryAsync(string? cacheDirectory, string dataDirectory, Microsoft.Extensions.Logging.ILoggerFactory? logs = null)
    {
        var clock = Stopwatch.StartNew();
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { SnapshotCacheDirectory = cacheDirectory, DataDirectory = dataDirectory }, logs ?? TestLogging.Factory);
        await using var connection = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select 1", connection);
        Assert.Equal(1, await command.ExecuteScalarAsync());
        return clock.Elapsed;
    }
}
