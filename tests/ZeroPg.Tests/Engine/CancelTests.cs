using System.Diagnostics;
using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Engine;

public sealed class CancelTests
{
    [Fact]
    public async Task Cancelling_a_running_query_on_disk_restarts_the_engine_and_gives_57014()
    {
        using var directory = new TempDirectory();
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = directory.Sub("db") }, TestLogging.Factory);
        await DataDirectoryTests.ExecuteAsync(server, "create table kept(x int); insert into kept values (1)");
        var engine = server.EngineProcessId;

        await using var client = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await client.OpenAsync();
        await using var slow = new NpgsqlCommand("select count(*) from generate_series(1, 3000000000)", client) { CommandTimeout = 120 };
        var running = slow.ExecuteScalarAsync();
        await Task.Delay(1000);
        var clock = Stopwatch.StartNew();
        slow.Cancel();
        var error = await Assert.ThrowsAsync<PostgresException>(() => running);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"cancel took {clock.Elapsed}");
        Assert.Equal("57014", error.SqlState);

        Assert.Equal(1L, await DataDirectoryTests.ExecuteAsync(server, "select count(*) from kept"));
        Assert.NotEqual(engine, server.EngineProcessId);
    }
}
