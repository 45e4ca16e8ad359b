using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>What a client made in the shared engine session goes when it leaves: the engine's counts return to where they were.</summary>
[Collection(ServerCollection.Name)]
public sealed class DisconnectReleaseTests(ServerFixture fixture)
{
    private const string EngineStatements = "SELECT count(*) FROM pg_catalog.pg_prepared_statements";

    [Fact]
    public async Task Prepared_statements_of_departed_clients_leave_the_engine()
    {
        var baseline = await EngineProbe.CountAsync(fixture.Server, EngineStatements);
        for (var cycle = 0; cycle < 5; cycle++)
        {
            await using (var client = await fixture.OpenAsync())
            {
                await using var batch = new NpgsqlBatch(client);
                for (var i = 0; i < 1000; i++)
                    batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT {cycle * 1000 + i} AS n"));
                await batch.PrepareAsync();
                await using (var reader = await batch.ExecuteReaderAsync())
                {
                    while (await reader.ReadAsync() || await reader.NextResultAsync())
                    {
                    }
                }
                Assert.Equal(1000L, await client.ScalarAsync("SELECT count(*) FROM pg_prepared_statements"));
                // At least this client's 1000 are in the engine (not baseline + 1000: a client of an earlier test may still be leaving).
                Assert.True(await EngineProbe.CountAsync(fixture.Server, EngineStatements) >= 1000);
            }
            await Eventually.WaitUntilAsync(async () => await EngineProbe.CountAsync(fixture.Server, EngineStatements) <= baseline,
                $"the engine's prepared statements back to {baseline} after cycle {cycle + 1}");
        }
    }

    [Fact]
    public async Task A_statement_another_client_still_names_stays_in_the_engine()
    {
        await using var stays = await fixture.OpenAsync();
        await using (var leaves = await fixture.OpenAsync())
        {
            foreach (var client in new[] { stays, leaves })
            {
                await using var command = new NpgsqlCommand("SELECT 'shared statement' || $1", client);
                command.Parameters.AddWithValue("x");
                await command.PrepareAsync();
            }
        }
        await using var again = new NpgsqlCommand("SELECT 'shared statement' || $1", stays);
        again.Parameters.AddWithValue("y");
        await again.PrepareAsync();
        Assert.Equal("shared statementy", await again.ExecuteScalarAsync());
        Assert.Equal(1L, await EngineProbe.CountAsync(fixture.Server,
            "SELECT count(*) FROM pg_catalog.pg_prepared_statements WHERE statement LIKE 'SELECT ''shared statement''%'"));
    }
}
