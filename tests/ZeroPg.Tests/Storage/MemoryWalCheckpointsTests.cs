using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Storage;

/// <summary>
/// The WAL checkpoints of memory:// (Storage.MemoryWalCheckpoints) ask an engine only after it ran something: an idle memory://
/// server sends its engine no batch. It was asked every second, so the engine host never saw a quiet stretch and its trim
/// after one (engine-host/pool.mjs) never came. CopyCheckpointTests keeps the checkpoints themselves.
/// </summary>
public sealed class MemoryWalCheckpointsTests
{
    [Fact]
    public async Task An_idle_memory_database_is_sent_no_batch()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using (var connection = new NpgsqlConnection(server.GetConnectionString()))
        {
            await connection.OpenAsync();
            await using var write = new NpgsqlCommand("create table idle_wal as select g from generate_series(1, 1000) g", connection);
            await write.ExecuteNonQueryAsync();
        }
        var engine = (await server.Services.Engine.GetAsync());
        // The check after the client's batches comes at the loop's next free round; then nothing more is sent.
        await Eventually.ValueAsync(async () =>
        {
            var before = engine.BatchesSent;
            await Task.Delay(2500);
            return engine.BatchesSent - before;
        }, sent => sent == 0, sent => $"{sent} batches sent in 2.5 s to an idle engine", TimeSpan.FromSeconds(20));

        var idle = engine.BatchesSent;
        var seen = new List<long>();
        for (var i = 0; i < 16; i++) // four of the checkpoint loop's rounds
        {
            await Task.Delay(250);
            seen.Add(engine.BatchesSent);
        }
        Assert.True(seen.All(batches => batches == idle), $"batches sent while idle: {string.Join(", ", seen)} after {idle}");
    }
}
