using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>
/// At a server's stop each client is told what happened to it (FATAL 57P01 with a hint): a client inside a transaction
/// that it was rolled back, an idle one that it had none; and whether what it committed outlives the server.
/// </summary>
public sealed class ShutdownMessageTests
{
    [Fact]
    public async Task An_idle_client_is_not_told_of_a_rollback_and_a_client_in_a_transaction_is()
    {
        var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { Port = 0 }, TestLogging.Factory);
        NpgsqlConnection idle, inTransaction;
        try
        {
            idle = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
            inTransaction = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
            await idle.OpenAsync();
            await inTransaction.OpenAsync();
            await idle.ScalarAsync("CREATE TABLE t (x int)");
            await inTransaction.ScalarAsync("BEGIN");
            await inTransaction.ScalarAsync("INSERT INTO t VALUES (1)");
        }
        finally
        {
            await server.DisposeAsync();
        }

        var idleError = await Assert.ThrowsAsync<PostgresException>(() => idle.ScalarAsync("SELECT 1"));
        Assert.Equal("57P01", idleError.SqlState);
        Assert.Contains("no open transaction", idleError.Hint);
        Assert.DoesNotContain("was rolled back:", idleError.Hint);
        Assert.Contains("in-memory database", idleError.Hint);

        var rolledBack = await Assert.ThrowsAsync<PostgresException>(() => inTransaction.ScalarAsync("SELECT 1"));
        Assert.Equal("57P01", rolledBack.SqlState);
        Assert.Contains("open transaction was rolled back", rolledBack.Hint);
        await idle.DisposeAsync();
        await inTransaction.DisposeAsync();
    }
}
