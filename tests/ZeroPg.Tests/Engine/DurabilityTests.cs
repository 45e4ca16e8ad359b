using Npgsql;
using ZeroPg.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Engine;

public sealed class DurabilityTests
{
    [Fact]
    public async Task Fsync_mode_keeps_commits_across_an_engine_kill_and_a_reopen()
    {
        using var directory = new TempDirectory();
        var options = new ZeroPgOptions { DataDirectory = directory.Sub("db"), Durability = EngineDurability.Fsync };
        await using (var server = await ZeroPgServer.StartAsync(options, TestLogging.Factory))
        {
            await using var connection = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
            await connection.OpenAsync();
            await using (var create = new NpgsqlCommand("create table t(id int primary key)", connection))
                await create.ExecuteNonQueryAsync();
            for (var id = 0; id < 50; id++)
            {
                await using var insert = new NpgsqlCommand($"insert into t values ({id})", connection);
                await insert.ExecuteNonQueryAsync();
            }
            await EngineKill.KillAsync(server);
        }
        await using var reopened = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = directory.Sub("db") }, TestLogging.Factory);
        Assert.Equal(50L, await DataDirectoryTests.ExecuteAsync(reopened, "select count(*) from t"));
    }
}
