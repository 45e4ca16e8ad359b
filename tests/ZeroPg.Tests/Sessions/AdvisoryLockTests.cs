using System.Diagnostics;
using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

[Collection(ServerCollection.Name)]
public sealed class AdvisoryLockTests(ServerFixture fixture)
{
    [Fact]
    public async Task Another_clients_try_lock_fails_until_the_holder_unlocks()
    {
        await using var a = await fixture.OpenAsync();
        await using var b = await fixture.OpenAsync();
        Assert.Equal(true, await a.ScalarAsync("SELECT pg_try_advisory_lock(9001)"));
        Assert.Equal(true, await a.ScalarAsync("SELECT pg_try_advisory_lock(9001)")); // re-entrant for the holder
        Assert.Equal(false, await b.ScalarAsync("SELECT pg_try_advisory_lock(9001)"));
        Assert.Equal(false, await b.ScalarAsync("SELECT pg_try_advisory_lock(9001)"));
        Assert.Equal(true, await a.ScalarAsync("SELECT pg_advisory_unlock(9001)"));
        Assert.Equal(false, await b.ScalarAsync("SELECT pg_try_advisory_lock(9001)")); // still held once
        Assert.Equal(true, await a.ScalarAsync("SELECT pg_advisory_unlock(9001)"));
        Assert.Equal(true, await b.ScalarAsync("SELECT pg_try_advisory_lock(9001)"));
        Assert.Equal(false, await a.ScalarAsync("SELECT pg_advisory_unlock(9001)")); // a does not own it
    }

    [Fact]
    public async Task A_named_statement_that_waits_for_a_lock_is_prepared_once_and_runs_when_the_lock_is_released()
    {
        await using var holder = await fixture.OpenAsync();
        await using var waiter = await RawProtocolClient.ConnectAsync(fixture.Server);
        Assert.Equal(true, await holder.ScalarAsync("SELECT pg_try_advisory_lock(9101)"));

        // Parse, Bind and Execute in one unit: it runs again once the lock is free, and its Parse must not find its own name taken.
        var waiting = waiter.Parse("locker", "select pg_advisory_lock(9101), pg_try_advisory_lock(9102)").Bind("", "locker").Execute().Sync().RoundTripAsync();
        // The holder's round trip queues behind the waiter's unit, which has run once and waits for the lock by then.
        Assert.Equal(1, await holder.ScalarAsync("SELECT 1"));
        Assert.False(waiting.IsCompleted);
        Assert.Equal(true, await holder.ScalarAsync("SELECT pg_advisory_unlock(9101)"));

        var replies = await waiting;
        Assert.Equal("12DCZ", new string(replies.Select(m => m.Code).ToArray()));
        Assert.Equal("t", replies.Single(m => m.Code == 'D').Columns()[1]);
        Assert.Equal(false, await holder.ScalarAsync("SELECT pg_try_advisory_lock(9101)"));
    }

    [Fact]
    public async Task Int_pair_and_shared_forms_follow_postgres_rules()
    {
        await using var a = await fixture.OpenAsync();
        await using var b = await fixture.OpenAsync();
        Assert.Equal(true, await a.ScalarAsync("SELECT pg_try_advisory_lock_shared(1, 2)"));
        Assert.Equal(true, await b.ScalarAsync("SELECT pg_try_advisory_lock_shared(1, 2)"));
        Assert.Equal(false, await b.ScalarAsync("SELECT pg_try_advisory_lock(1, 2)"));
        Assert.Equal(true, await a.ScalarAsync("SELECT pg_try_advisory_lock(4294967298)")); // bigint space is separate from (1, 2)
        await a.ScalarAsync("SELECT pg_advisory_unlock_all()");
        await b.ScalarAsync("SELECT pg_advisory_unlock_all()");
        Assert.Equal(true, await b.ScalarAsync("SELECT pg_try_advisory_lock(1, 2)"));
    }

    [Fact]
    public async Task A_blocking_lock_waits_without_holding_the_engine_and_gets_the_lock_when_released()
    {
        await using var a = await fixture.OpenAsync();
        await using var b = await fixture.OpenAsync();
        await using var c = await fixture.OpenAsync();
        await a.ScalarAsync("SELECT pg_advisory_lock(9002)");

        var blocked = b.ScalarAsync("SELECT pg_advisory_lock(9002)");
        await Eventually.WaitUntilAsync(() => fixture.Server.Services.Registry.Sessions.Any(s => s.WaitsForAdvisoryLock), "b waiting for the lock");
        // The engine is free for others while b waits, and b does not get the lock a holds.
        Assert.Equal(7, await c.ScalarAsync("SELECT 7"));
        Assert.False(blocked.IsCompleted, "b got the lock while a held it");

        await a.ScalarAsync("SELECT pg_advisory_unlock(9002)");
        await blocked.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(false, await a.ScalarAsync("SELECT pg_try_advisory_lock(9002)")); // b holds it now
    }

    [Fact]
    public async Task Locks_are_released_when_the_holder_disconnects()
    {
        await using var b = await fixture.OpenAsync();
        await using (var a = await fixture.OpenAsync())
        {
            Assert.Equal(true, await a.ScalarAsync("SELECT pg_try_advisory_lock(9003)"));
            Assert.Equal(false, await b.ScalarAsync("SELECT pg_try_advisory_lock(9003)"));
        }
        await Eventually.WaitUntilAsync(async () => Equals(await b.ScalarAsync("SELECT pg_try_advisory_lock(9003)"), true),
            "b takes the lock its disconnected holder had", TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task A_parameterised_lock_through_the_extended_protocol_is_per_client()
    {
        await using var a = await fixture.OpenAsync();
        await using var b = await fixture.OpenAsync();
        await using var lockA = new NpgsqlCommand("SELECT pg_try_advisory_lock(@key)", a);
        lockA.Parameters.AddWithValue("key", 9004L);
        Assert.Equal(true, await lockA.ExecuteScalarAsync());
        await using var lockB = new NpgsqlCommand("SELECT pg_try_advisory_lock(@key)", b);
        lockB.Parameters.AddWithValue("key", 9004L);
        Assert.Equal(false, await lockB.ExecuteScalarAsync());
    }
}
