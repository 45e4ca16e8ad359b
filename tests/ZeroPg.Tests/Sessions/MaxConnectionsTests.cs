using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>--max-connections: the next client is refused like Postgres refuses it, and a freed slot is reusable.</summary>
public sealed class MaxConnectionsTests
{
    [Fact]
    public async Task The_connection_over_the_limit_gets_53300_and_a_freed_slot_is_reused()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { MaxConnections = 3 }, TestLogging.Factory);
        var connectionString = server.GetConnectionString() + ";Pooling=false";
        var open = new List<NpgsqlConnection>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync();
                open.Add(connection);
            }

            await using (var fourth = new NpgsqlConnection(connectionString))
            {
                var error = await Assert.ThrowsAsync<PostgresException>(() => fourth.OpenAsync());
                Assert.Equal("53300", error.SqlState);
                Assert.Equal("sorry, too many clients already", error.MessageText);
            }
            // Refused connections do not use up slots.
            await using (var fifth = new NpgsqlConnection(connectionString))
                Assert.Equal("53300", (await Assert.ThrowsAsync<PostgresException>(() => fifth.OpenAsync())).SqlState);

            await open[0].CloseAsync();
            open.RemoveAt(0);

            // The slot is freed when the server has seen the close; allow it a moment.
            var replacement = await Eventually.SucceedsAsync(async () =>
            {
                var candidate = new NpgsqlConnection(connectionString);
                try
                {
                    await candidate.OpenAsync();
                    return candidate;
                }
                catch
                {
                    await candidate.DisposeAsync();
                    throw;
                }
            }, error => error is PostgresException { SqlState: "53300" });
            open.Add(replacement);
            await using var command = new NpgsqlCommand("select 7", replacement);
            Assert.Equal(7, (int)(await command.ExecuteScalarAsync())!);
            foreach (var connection in open)
            {
                await using var check = new NpgsqlCommand("select 1", connection);
                Assert.Equal(1, (int)(await check.ExecuteScalarAsync())!);
            }
        }
        finally
        {
            foreach (var connection in open)
                await connection.DisposeAsync();
        }
    }
}
