using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Engine.Pooled;

/// <summary>
/// Session state that outlives a transaction, through the pool: it stays with the client that made it (its backend is kept for
/// it) and is gone when the client leaves; clients without such state share the pool's few backends.
/// </summary>
[Collection(PooledServerCollection.Name)]
public sealed class PooledSessionStateTests(PooledServerFixture fixture)
{
    [Fact]
    public async Task A_cursor_with_hold_keeps_its_position_while_other_clients_use_the_pool()
    {
        await using var owner = await fixture.OpenAsync();
        await owner.ExecAsync("BEGIN; DECLARE held CURSOR WITH HOLD FOR SELECT g FROM generate_series(1, 10) g; COMMIT");
        Assert.Equal(1, await owner.ScalarAsync("FETCH NEXT FROM held"));
        // More clients than backends, one after another and at once: none of them sees the cursor.
        await Task.WhenAll(Enumerable.Range(0, PooledServerFixture.PoolSize * 2).Select(async _ =>
        {
            await using var other = await fixture.OpenAsync();
            Assert.Equal(0L, await other.ScalarAsync("SELECT count(*) FROM pg_cursors WHERE name = 'held'"));
        }));
        Assert.Equal(2, await owner.ScalarAsync("FETCH NEXT FROM held"));
        Assert.Equal(1L, await owner.ScalarAsync("SELECT count(*) FROM pg_cursors WHERE name = 'held'"));
    }

    [Fact]
    public async Task Session_advisory_locks_stay_with_their_client_and_go_when_it_leaves()
    {
        await using var b = await fixture.OpenAsync();
        await using (var a = await fixture.OpenAsync())
        {
            Assert.Equal(true, await a.ScalarAsync("SELECT pg_try_advisory_lock(6501)"));
            Assert.Equal(false, await b.ScalarAsync("SELECT pg_try_advisory_lock(6501)"));
            // Other clients come and go on the pool's backends meanwhile; the lock stays a's.
            for (var i = 0; i < PooledServerFixture.PoolSize * 2; i++)
            {
                await using var passer = await fixture.OpenAsync();
                Assert.Equal(false, await passer.ScalarAsync("SELECT pg_try_advisory_lock(6501)"));
            }
            Assert.Equal(true, await a.ScalarAsync("SELECT pg_advisory_unlock(6501)"));
            Assert.Equal(true, await a.ScalarAsync("SELECT pg_try_advisory_lock(6501)"));
        }
        await Eventually.WaitUntilAsync(async () => Equals(await b.ScalarAsync("SELECT pg_try_advisory_lock(6501)"), true),
            "b takes the lock its disconnected holder had");
        await b.ExecAsync("SELECT pg_advisory_unlock_all()");
    }

    [Fact]
    public async Task Clients_without_session_state_share_fewer_backends_than_clients()
    {
        var clients = new List<NpgsqlConnection>();
        try
        {
            for (var i = 0; i < PooledServerFixture.PoolSize * 3; i++)
                clients.Add(await fixture.OpenAsync());
            foreach (var client in clients)
                Assert.Equal(1, await client.ScalarAsync("SELECT 1"));
            // Every client is connected, and every statement ran, on at most PoolSize backends.
            var backends = await clients[0].ScalarAsync("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'");
            Assert.InRange((long)backends!, 1L, PooledServerFixture.PoolSize);
        }
        finally
        {
            foreach (var client in clients)
                await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_cancel_reaches_the_backend_running_the_clients_statement()
    {
        await using var client = await fixture.OpenAsync();
        using var command = new NpgsqlCommand("SELECT pg_sleep(60)", client);
        var running = command.ExecuteScalarAsync();
        await Eventually.WaitUntilAsync(async () =>
        {
            await using var watcher = await fixture.OpenAsync();
            return (long)(await watcher.ScalarAsync("SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)' AND state = 'active'"))! == 1;
        }, "the sleep running in a backend");
        command.Cancel();
        var cancelled = await Assert.ThrowsAsync<OperationCanceledException>(() => running);
        Assert.Equal("57014", Assert.IsType<PostgresException>(cancelled.InnerException).SqlState);
        Assert.Equal(2, await client.ScalarAsync("SELECT 2"));
    }

    [Fact]
    public async Task Show_pools_answers_with_the_pools_backends()
    {
        await using var client = await fixture.OpenAsync();
        await using var reader = await new NpgsqlCommand("SHOW POOLS", client).ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal("postgres", reader.GetString(reader.GetOrdinal("database")));
        Assert.Equal((long)PooledServerFixture.PoolSize, reader.GetInt64(reader.GetOrdinal("pool_size")));
    }

    [Fact]
    public async Task Application_name_and_notify_sender_are_the_clients()
    {
        await using var a = await fixture.OpenAsync("Application Name=pooled-a");
        await using var b = await fixture.OpenAsync("Application Name=pooled-b");
        Assert.Equal("pooled-a", await a.ScalarAsync("SELECT current_setting('application_name')"));
        Assert.Equal("pooled-b", await b.ScalarAsync("SELECT current_setting('application_name')"));
        Assert.Equal("pooled-a", await a.ScalarAsync("SELECT current_setting('application_name')"));
    }
}
