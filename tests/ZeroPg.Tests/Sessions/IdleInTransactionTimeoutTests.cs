using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

public sealed class IdleInTransactionTimeoutTests
{
    [Fact]
    public async Task A_client_idle_in_a_transaction_is_rolled_back_and_disconnected_with_25P03()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { IdleInTransactionTimeout = TimeSpan.FromSeconds(1) }, TestLogging.Factory);
        var cs = server.GetConnectionString() + ";Pooling=false";
        await using var other = new NpgsqlConnection(cs);
        await other.OpenAsync();
        await using (var create = new NpgsqlCommand("CREATE TABLE idle_tx(x int)", other))
            await create.ExecuteNonQueryAsync();

        await using var idle = new NpgsqlConnection(cs);
        await idle.OpenAsync();
        await using (var begin = new NpgsqlCommand("BEGIN; INSERT INTO idle_tx VALUES (1)", idle))
            await begin.ExecuteNonQueryAsync();

        // The other client is not blocked for longer than the timeout, and sees no uncommitted row.
        await using var count = new NpgsqlCommand("SELECT count(*) FROM idle_tx", other);
        Assert.Equal(0L, await count.ExecuteScalarAsync());

        // The idle client's session ends after the timeout without it sending anything.
        await Eventually.WaitUntilAsync(() => server.Services.Registry.Count == 1, "the idle session ended");
        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var next = new NpgsqlCommand("SELECT 1", idle);
            await next.ExecuteScalarAsync();
        });
        var postgres = error as PostgresException ?? error.InnerException as PostgresException;
        Assert.NotNull(postgres);
        Assert.Equal("25P03", postgres.SqlState);
    }
}
