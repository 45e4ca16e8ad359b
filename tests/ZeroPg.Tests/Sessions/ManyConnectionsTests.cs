using System.Diagnostics;
using Npgsql;
using Xunit.Abstractions;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>Hundreds of clients at once share the one engine session, each getting its own answers.</summary>
[Collection(ServerCollection.Name)]
public sealed class ManyConnectionsTests(ServerFixture fixture, ITestOutputHelper output)
{
    private const int Count = 500;
    private const int Batch = 50;

    [Fact]
    public async Task Five_hundred_connections_open_at_once_each_get_their_own_answer()
    {
        var connectionString = fixture.ConnectionString + ";Pooling=false;Timeout=30;Command Timeout=60";
        // Warm up Npgsql's type loading once so the measurement below is about sessions.
        await using (var warm = new NpgsqlConnection(connectionString))
            await warm.OpenAsync();

        // Sessions of clients that closed just before (the warm-up, earlier tests) are still being removed: let them go.
        await WaitForSessionsAtMostAsync(0);
        var sessionsBefore = fixture.Server.Services.Registry.Count;
        var memoryBefore = GC.GetTotalMemory(forceFullCollection: true);
        var watch = Stopwatch.StartNew();
        var connections = new NpgsqlConnection[Count];
        try
        {
            for (var start = 0; start < Count; start += Batch)
            {
                await Task.WhenAll(Enumerable.Range(start, Batch).Select(async i =>
                {
                    connections[i] = new NpgsqlConnection(connectionString);
                    await connections[i].OpenAsync();
                }));
            }
            var opened = watch.Elapsed;
            Assert.Equal(sessionsBefore + Count, fixture.Server.Services.Registry.Count);
            var memoryOpen = GC.GetTotalMemory(forceFullCollection: true);

            // All of them query at once; each must get its own value back.
            var results = await Task.WhenAll(connections.Select(async (connection, i) =>
            {
                await using var command = new NpgsqlCommand("select $1::int * 2 + 1, pg_backend_pid()", connection);
                command.Parameters.AddWithValue(i);
                await using var reader = await command.ExecuteReaderAsync();
                Assert.True(await reader.ReadAsync());
                return (Index: i, Value: reader.GetInt32(0), Pid: reader.GetInt32(1));
            }));
            foreach (var (index, value, _) in results)
                Assert.Equal(index * 2 + 1, value);
            var queried = watch.Elapsed;

            var perConnection = (memoryOpen - memoryBefore) / (double)Count;
            output.WriteLine($"{Count} connections opened in {opened.TotalSeconds:0.00} s, all queried by {queried.TotalSeconds:0.00} s");
            output.WriteLine($"managed memory (server and Npgsql clients share this process): {memoryBefore / 1048576.0:0.0} MiB before, "
                + $"{memoryOpen / 1048576.0:0.0} MiB with {Count} open: {perConnection / 1024:0.0} KiB per connection");
        }
        finally
        {
            foreach (var connection in connections)
            {
                if (connection is not null)
                    await connection.DisposeAsync();
            }
        }

        // Every session is gone once the clients have closed.
        await WaitForSessionsAtMostAsync(sessionsBefore);
        Assert.True(fixture.Server.Services.Registry.Count <= sessionsBefore, $"{fixture.Server.Services.Registry.Count} sessions left");
        await using var after = await fixture.OpenAsync();
        await using var check = new NpgsqlCommand("select 1", after);
        Assert.Equal(1, (int)(await check.ExecuteScalarAsync())!);
    }

    private Task WaitForSessionsAtMostAsync(int count)
        => Eventually.WaitUntilAsync(() => fixture.Server.Services.Registry.Count <= count, $"at most {count} sessions");
}
