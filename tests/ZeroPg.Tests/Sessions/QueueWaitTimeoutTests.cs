using System.Diagnostics;
using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>--queue-wait-timeout: a client waiting too long for the engine held by another client's transaction gets 57014.</summary>
public sealed class QueueWaitTimeoutTests
{
    [Fact]
    public async Task Waiting_client_gets_57014_after_the_timeout_while_the_holder_is_unaffected()
    {
        await using var server = await ZeroPgServer.StartAsync(
            new ZeroPgOptions { QueueWaitTimeout = TimeSpan.FromSeconds(1) }, TestLogging.Factory);
        var connectionString = server.GetConnectionString() + ";Pooling=false";
        await using var a = new NpgsqlConnection(connectionString);
        await using var b = new NpgsqlConnection(connectionString);
        await a.OpenAsync();
        await b.OpenAsync();
        await Exec(a, "create table queue_wait (id int)");

        await using var transaction = await a.BeginTransactionAsync();
        await Exec(a, "insert into queue_wait values (1)");

        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<PostgresException>(() => Exec(b, "insert into queue_wait values (2)"));
        watch.Stop();
        Assert.Equal("57014", error.SqlState);
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(3));

        // The holder's transaction went on untouched.
        await Exec(a, "insert into queue_wait values (3)");
        await transaction.CommitAsync();

        // The waiter's connection is still good, and its timed-out statement never ran.
        await using var count = new NpgsqlCommand("select string_agg(id::text, ',' order by id) from queue_wait", b);
        Assert.Equal("1,3", (string)(await count.ExecuteScalarAsync())!);
        await Exec(b, "insert into queue_wait values (4)");
        await using var check = new NpgsqlCommand("select count(*) from queue_wait", a);
        Assert.Equal(3L, (long)(await check.ExecuteScalarAsync())!);
    }

    private static async Task Exec(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
