using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ZeroPg.Storage;
using ZeroPg.Tests.Engine;

namespace ZeroPg.Tests.Storage;

public sealed class SnapshotCachePrunerTests : IDisposable
{
    private static readonly DateTime Now = new(2025, 6, 1, 12, 0, 0, DateTimeKind.Utc);
    private readonly TempDirectory _cache = new();

    public void Dispose() => _cache.Dispose();

    [Fact]
    public void Snapshots_unused_too_long_are_deleted_but_never_the_one_in_use()
    {
        var inUse = Snapshot("pglite-0.3.0-current.tar", TimeSpan.FromDays(90));
        var expired = Snapshot("pglite-0.2.0-expired.tar", SnapshotCachePruner.MaxUnused + TimeSpan.FromHours(1));
        var recent = Snapshot("pglite-0.2.0-recent.tar", SnapshotCachePruner.MaxUnused - TimeSpan.FromHours(1));
        var foreign = Snapshot("someone-elses.tar", TimeSpan.FromDays(365));

        Prune(inUse);

        Assert.True(File.Exists(inUse));
        Assert.False(File.Exists(expired));
        Assert.True(File.Exists(recent));
        Assert.True(File.Exists(foreign), "only ZeroPg's own files are pruned");
    }

    [Fact]
    public void At_most_MaxFiles_snapshots_are_kept_by_most_recent_use()
    {
        // The one in use is older than all the others and still kept, taking one of the places.
        var inUse = Snapshot("pglite-0.3.0-current.tar", TimeSpan.FromDays(20));
        var others = Enumerable.Range(1, SnapshotCachePruner.MaxFiles + 4)
            .Select(hours => Snapshot($"pglite-0.2.0-{hours:00}h.tar", TimeSpan.FromHours(hours)))
            .ToList();

        Prune(inUse);

        Assert.True(File.Exists(inUse));
        Assert.Equal(others.Take(SnapshotCachePruner.MaxFiles - 1), others.Where(File.Exists));
        Assert.Equal(SnapshotCachePruner.MaxFiles, Directory.GetFiles(_cache.Path, "*.tar").Length);
    }

    [Fact]
    public void The_cap_spares_snapshots_another_process_just_picked()
    {
        var inUse = Path.Combine(_cache.Path, "pglite-0.3.0-not-written-yet.tar");
        var busy = Enumerable.Range(1, SnapshotCachePruner.MaxFiles + 2)
            .Select(minutes => Snapshot($"pglite-0.2.0-{minutes:00}m.tar", TimeSpan.FromMinutes(minutes)))
            .ToList();
        var idle = Snapshot("pglite-0.1.0-idle.tar", SnapshotCachePruner.RecentUse + TimeSpan.FromMinutes(1));

        Prune(inUse);

        Assert.All(busy, file => Assert.True(File.Exists(file), file));
        Assert.False(File.Exists(idle));
    }

    [Fact]
    public void Temp_files_of_crashed_writers_are_deleted_and_fresh_ones_kept()
    {
        var inUse = Snapshot("pglite-0.3.0-current.tar", TimeSpan.Zero);
        var stale = Snapshot("pglite-0.3.0-current.tar.4242.tmp", SnapshotCachePruner.StaleTempAge + TimeSpan.FromMinutes(1));
        var staleOther = Snapshot("pglite-0.2.0-old.tar.17.tmp", TimeSpan.FromDays(3));
        var writing = Snapshot("pglite-0.3.0-current.tar.4343.tmp", TimeSpan.FromSeconds(5));
        var foreign = Snapshot("pglite-notes.tmp", TimeSpan.FromDays(3));

        Prune(inUse);

        Assert.False(File.Exists(stale));
        Assert.False(File.Exists(staleOther));
        Assert.True(File.Exists(writing));
        Assert.True(File.Exists(foreign), "a .tmp that is not a snapshot being written is not ours");
        Assert.True(File.Exists(inUse));
    }

    [Fact]
    public void Pruning_a_directory_it_cannot_read_logs_a_warning_and_lets_the_start_go_on()
    {
        var missing = _cache.Sub("gone");
        var logger = new ListLogger();
        var error = Record.Exception(() => SnapshotCachePruner.Prune(missing, Path.Combine(missing, "pglite-0.3.0-current.tar"), Now, logger));
        Assert.Null(error);
        var warning = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("pruning", warning.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(missing), "pruning created nothing");
    }

    private sealed class ListLogger : ILogger
    {
        public List<(LogLevel Level, string Message)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => Entries.Add((logLevel, formatter(state, exception)));
    }

    [Fact]
    public void Picking_a_snapshot_marks_it_used()
    {
        var hostScript = FakeEngineHost("0.3.0");
        var cache = SnapshotCache.For(_cache.Sub("cache"), hostScript, [], []);
        Assert.True(cache.EnsureDirectory());
        var tar = new byte[2 << 20];
        "ustar"u8.CopyTo(tar.AsSpan(257));
        File.WriteAllBytes(cache.FilePath, tar);
        var old = DateTime.UtcNow - TimeSpan.FromDays(60);
        File.SetLastWriteTimeUtc(cache.FilePath, old);

        Assert.Equal(cache.FilePath, cache.TryGet());

        Assert.True(File.GetLastWriteTimeUtc(cache.FilePath) > DateTime.UtcNow - TimeSpan.FromMinutes(1));
    }

    private void Prune(string inUse) => SnapshotCachePruner.Prune(_cache.Path, inUse, Now, NullLogger.Instance);

    private string Snapshot(string name, TimeSpan unusedFor)
    {
        var path = _cache.Sub(name);
        File.WriteAllBytes(path, [1, 2, 3]);
        File.SetLastWriteTimeUtc(path, Now - unusedFor);
        return path;
    }

    private string FakeEngineHost(string pgliteVersion)
    {
        var host = _cache.Sub("engine-host");
        var package = Path.Combine(host, "node_modules", "@electric-sql", "pglite");
        Directory.CreateDirectory(package);
        File.WriteAllText(Path.Combine(package, "package.json"), $$"""{ "version": "{{pgliteVersion}}" }""");
        return Path.Combine(host, "host.mjs");
    }
}
