using Npgsql;
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
            await Execute(server, "postgres", "CREATE DATABASE kept");
            await Execute(server, "kept", "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('before restart')");
            var entry = server.Services.Databases.Find("kept")!;
            await Eventually.WaitUntilAsync(() => entry.RunningServices is null, "the idle engine of kept stopped");
            Assert.Equal("before restart", await Scalar(server, "kept", "SELECT body FROM notes"));
        }
        Assert.True(File.Exists(Path.Combine(directory.Path, ".zeropg-databases", "kept", "PG_VERSION")));
        await using (var server = await ZeroPgServer.StartAsync(options(), TestLogging.Factory))
        {
            Assert.Equal("kept", await Scalar(server, "kept", "SELECT current_database()"));
            Assert.Equal("before restart", await Scalar(server, "kept", "SELECT body FROM notes"));
            await Execute(server, "postgres", "DROP DATABASE kept");
        }
        Assert.False(Directory.Exists(Path.Combine(directory.Path, ".zeropg-databases", "kept")));
    }

    private static async Task Execute(ZeroPgServer server, string database, string sql)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server.GetConnectionString()) { Database = database, Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await connection.ExecAsync(sql);
    }

    private static async Task<string> Scalar(ZeroPgServer server, string database, string sql)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server.GetConnectionString()) { Database = database, Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        return await connection.TextAsync(sql);
    }
}
