using Npgsql;
using NpgsqlTypes;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>Concurrent COPY FROM STDIN (each kept until its CopyDone, then loaded in pieces holding the engine) and queries interleave safely.</summary>
[Collection(ServerCollection.Name)]
public class ConcurrentCopyTests(ServerFixture fixture)
{
    [Fact]
    public async Task Concurrent_binary_imports_and_queries_each_land_whole()
    {
        var table = $"copy_conc_{Guid.NewGuid():N}";
        await using (var setup = await fixture.OpenAsync())
        await using (var create = new NpgsqlCommand($"create table {table} (worker int, n int, v text)", setup))
            await create.ExecuteNonQueryAsync();

        const int workers = 4, rounds = 5, rows = 500;
        await Task.WhenAll(Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
        {
            await using var connection = await fixture.OpenAsync();
            for (var round = 0; round < rounds; round++)
            {
                await using (var import = await connection.BeginBinaryImportAsync($"copy {table} (worker, n, v) from stdin (format binary)"))
                {
                    for (var i = 0; i < rows; i++)
                    {
                        await import.StartRowAsync();
                        await import.WriteAsync(w, NpgsqlDbType.Integer);
                        await import.WriteAsync(round * rows + i, NpgsqlDbType.Integer);
                        await import.WriteAsync($"w{w}r{round}i{i}", NpgsqlDbType.Text);
                    }
                    Assert.Equal((ulong)rows, await import.CompleteAsync());
                }
                await using var count = new NpgsqlCommand($"select count(*) from {table} where worker = $1", connection);
                count.Parameters.AddWithValue(w);
                Assert.Equal((round + 1L) * rows, (long)(await count.ExecuteScalarAsync())!);
            }
        })));

        await using var check = await fixture.OpenAsync();
        await using var total = new NpgsqlCommand($"select count(*), count(distinct (worker, n)) from {table}", check);
        await using var reader = await total.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(workers * rounds * rows, reader.GetInt64(0));
        Assert.Equal(workers * rounds * rows, reader.GetInt64(1));
    }
}
