using ZeroPg.Tests.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Databases;

/// <summary>With --db DIR every database is a cluster under DIR: it survives a restart, and its idle engine stops and starts again.</summary>
public sealed class DatabasePersistenceTests
{
    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_database_survives_a_restart_and_its_idle_engine_stops_and_starts_again()
    {
        using var directory = new TempDirectory();
        var options = () => new ZeroPgOptions { DataDirectory = directory.Path, DatabaseIdleTimeout = TimeSpan.FromMilliseconds(500) };
        await using (var server = await ZeroPgServer.StartAsync(options(), TestLogging.Factory))
        {
            await server.ExecAsync("postgres", "CREATE DATABASE kept");
            await server.ExecAsync("kept", "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('before restart')");
            var entry = server.Services.Databases.Find("kept")!;
            await Eventually.WaitUntilAsync(() => entry.RunningServices is null, "the idle engine of kept stopped");
            Assert.Equal("before restart", await server.TextAsync("kept", "SELECT body FROM notes"));
        }
        Assert.True(File.Exists(Path.Combine(directory.Path, ".zeropg-databases", "kept", "PG_VERSION")));
        await using (var server = await ZeroPgServer.StartAsync(options(), TestLogging.Factory))
        {
            Assert.Equal("kept", await server.TextAsync("kept", "SELECT current_database()"));
            Assert.Equal("before restart", await server.TextAsync("kept", "SELECT body FROM notes"));
            await server.ExecAsync("postgres", "DROP DATABASE kept");
        }
        Assert.False(Directory.Exists(Path.Combine(directory.Path, ".zeropg-databases", "kept")));
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_spare_engine_becomes_the_new_database_in_its_folder_and_a_rename_moves_it_in_place()
    {
        using var directory = new TempDirectory();
        var databases = Path.Combine(directory.Path, ".zeropg-databases");
        await using (var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = directory.Path, SpareDatabaseEngine = ZeroPg.Databases.SpareEngineMode.Always }, TestLogging.Factory))
        {
            var catalog = server.Services.Databases;
            await Eventually.WaitUntilAsync(() => catalog.Spare is not null, "the spare engine started", TimeSpan.FromMinutes(2));
            var (spareEngine, _) = catalog.Spare!.Value;
            var spare = spareEngine.Id;
            // A spare costs a worker of the shared engine host, not a process (where the machine runs the shared host).
            Assert.Equal(ZeroPg.Engine.EngineHostModes.UsesSharedHost(new ZeroPgOptions()), spareEngine.IsSharedHostWorker);
            await server.ExecAsync("postgres", "CREATE DATABASE claimed");
            // No engine started for it: the spare's, renamed, its folder moved to the database's name.
            Assert.Equal(spare, catalog.Find("claimed")!.RunningServices!.Engine.EngineId);
            Assert.True(File.Exists(Path.Combine(databases, "claimed", "PG_VERSION")));
            await server.ExecAsync("claimed", "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('in the spare')");
            await server.ExecAsync("postgres", "ALTER DATABASE claimed RENAME TO moved");
            Assert.Equal(spare, catalog.Find("moved")!.RunningServices!.Engine.EngineId);
            Assert.False(Directory.Exists(Path.Combine(databases, "claimed")));
            Assert.Equal("moved|in the spare", await server.TextAsync("moved", "SELECT current_database() || '|' || body FROM notes"));
            await server.ExecAsync("moved", "INSERT INTO notes VALUES ('after the move')");
        }
        Assert.Empty(Directory.GetDirectories(databases, ".spare-*"));
        await using (var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = directory.Path, SpareDatabaseEngine = ZeroPg.Databases.SpareEngineMode.Off }, TestLogging.Factory))
        {
            Assert.Equal("moved|2", await server.TextAsync("moved", "SELECT current_database() || '|' || count(*) FROM notes"));
            Assert.Equal("moved", await server.TextAsync("postgres", "SELECT string_agg(datname, ',') FROM pg_database WHERE datname NOT IN ('postgres', 'template0', 'template1')"));
        }
    }
}
