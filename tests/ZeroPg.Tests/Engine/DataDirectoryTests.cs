using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Engine;

public sealed class DataDirectoryTests
{
    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_second_server_on_the_same_directory_is_refused_naming_the_holder()
    {
        using var directory = new TempDirectory();
        var db = directory.Sub("dåta dir");
        await using (var first = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = db }, TestLogging.Factory))
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = db }, TestLogging.Factory));
            Assert.Contains($"pid {Environment.ProcessId}", error.Message);
            Assert.Contains("in use", error.Message);
        }
        // Released at stop: the directory can be served again.
        await using var again = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = db }, TestLogging.Factory);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Extensions_a_directory_used_are_preloaded_when_it_is_reopened()
    {
        using var directory = new TempDirectory();
        var db = directory.Sub("db");
        await using (var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = db, Extensions = ["vector", "citext"] }, TestLogging.Factory))
        {
            await ExecuteAsync(server, "create extension vector; create extension citext; create table items(e vector(3), name citext); insert into items values ('[1,2,3]', 'Ab')");
        }
        await using (var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = db }, TestLogging.Factory))
        {
            Assert.Equal("[1,2,3]", await ExecuteAsync(server, "select e::text from items where name = 'aB'"));
        }
    }

    [Fact]
    public async Task An_extension_that_is_not_bundled_fails_at_start_listing_what_is_available()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => ZeroPgServer.StartAsync(new ZeroPgOptions { Extensions = ["postgis", "pgcrypto"] }, TestLogging.Factory));
        Assert.Contains("postgis", error.Message);
        Assert.Contains("Available:", error.Message);
        Assert.Contains("pgcrypto", error.Message);
        Assert.Contains("vector", error.Message);
    }

    internal static async Task<object?> ExecuteAsync(ZeroPgServer server, string sql)
    {
        await using var connection = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }
}
