using System.Diagnostics;
using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>
/// transaction_timeout (Postgres 17+) per client, as Postgres 18 enforces it: FATAL 25P04 once a transaction, or a single
/// statement outside a transaction block, runs past the limit; a running statement is cancelled inside the engine first,
/// so the engine is not restarted and the other clients go on.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class TransactionTimeoutTests(ServerFixture fixture)
{
    private const string Terminated = "terminating connection due to transaction timeout";

    [Fact]
    public async Task A_single_statement_running_past_the_limit_ends_the_connection_with_25P04_and_the_engine_goes_on()
    {
        var engine = fixture.Server.EngineId;
        await using var client = await RawProtocolClient.ConnectAsync(fixture.Server);
        Assert.DoesNotContain(await client.Query("set transaction_timeout = '500ms'").RoundTripAsync(), m => m.Code == 'E');
        Assert.Equal("500ms", (await client.SingleRowAsync("show transaction_timeout"))[0]);

        var clock = Stopwatch.StartNew();
        await client.Query("select count(*) from generate_series(1, 300000000)").FlushAsync();
        var closing = await client.ReadUntilClosedAsync(TimeSpan.FromSeconds(15));
        var fatal = Assert.Single(closing, m => m.Code == 'E');
        Assert.Equal("25P04", fatal.SqlState);
        Assert.Equal("FATAL", fatal.Field('S'));
        Assert.Equal(Terminated, fatal.MessageText);
        Assert.DoesNotContain(closing, m => m.Code == 'E' && m.SqlState == "57014"); // the in-engine cancel is not the client's error
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(450), TimeSpan.FromSeconds(5)); // the query alone runs far longer

        Assert.Equal(engine, fixture.Server.EngineId);
        await AssertOthersServedAsync();
    }

    [Fact]
    public async Task A_transaction_block_past_the_limit_is_rolled_back_even_while_idle()
    {
        await using (var setup = await fixture.OpenAsync())
        await using (var create = new NpgsqlCommand("create table if not exists tx_timeout_rows (x int)", setup))
            await create.ExecuteNonQueryAsync();
        await using var client = await RawProtocolClient.ConnectAsync(fixture.Server);
        await client.Query("set transaction_timeout = 400").RoundTripAsync();
        var begun = await client.Query("begin; insert into tx_timeout_rows values (1)").RoundTripAsync();
        Assert.DoesNotContain(begun, m => m.Code == 'E');
        Assert.Equal((byte)'T', begun[^1].Body[0]);

        var fatal = Assert.Single(await client.ReadUntilClosedAsync(TimeSpan.FromSeconds(15)));
        Assert.Equal("25P04", fatal.SqlState);
        Assert.Equal(Terminated, fatal.MessageText);

        await using var other = await fixture.OpenAsync();
        await using var count = new NpgsqlCommand("select count(*) from tx_timeout_rows", other);
        Assert.Equal(0L, await count.ExecuteScalarAsync());
    }

    [Fact]
    public async Task The_limit_counts_per_transaction_so_short_ones_never_fire()
    {
        await using var client = await fixture.OpenAsync("Options=-c transaction_timeout=2000");
        // Six statements of 400 ms each: 2.4 s in all, each transaction well inside the limit (margin for a loaded machine).
        for (var i = 0; i < 6; i++)
        {
            await using var sleep = new NpgsqlCommand("select pg_sleep(0.4)", client);
            await sleep.ExecuteNonQueryAsync();
        }
        for (var i = 0; i < 3; i++)
        {
            await using var transaction = await client.BeginTransactionAsync();
            await using (var sleep = new NpgsqlCommand("select pg_sleep(0.8)", client, transaction))
                await sleep.ExecuteNonQueryAsync();
            await transaction.CommitAsync();
        }
        await using var still = new NpgsqlCommand("select 'still here'", client);
        Assert.Equal("still here", await still.ExecuteScalarAsync());
    }

    [Fact]
    public async Task The_limit_from_the_startup_options_ends_a_long_pg_sleep_as_npgsql_sees_it()
    {
        await using var client = await fixture.OpenAsync("Options=-c transaction_timeout=500");
        await using var sleep = new NpgsqlCommand("select pg_sleep(10)", client) { CommandTimeout = 60 };
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<PostgresException>(() => sleep.ExecuteNonQueryAsync());
        Assert.Equal("25P04", error.SqlState);
        Assert.Equal(Terminated, error.MessageText);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}"); // half the sleep
        await AssertOthersServedAsync();
    }

    [Fact]
    public async Task Another_client_queued_behind_the_timed_out_statement_is_served_right_after()
    {
        await using var timed = await fixture.OpenAsync("Options=-c transaction_timeout=500");
        await using var other = await fixture.OpenAsync();
        await using var slow = new NpgsqlCommand("select count(*) from generate_series(1, 300000000)", timed) { CommandTimeout = 60 };
        var running = slow.ExecuteScalarAsync();
        await Eventually.WaitUntilAsync(async () => (await fixture.Server.Services.Engine.GetAsync()).HasCallsInFlight, "the slow query running");
        await using var quick = new NpgsqlCommand("select 42", other);
        var clock = Stopwatch.StartNew();
        Assert.Equal(42, await quick.ExecuteScalarAsync());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the other client waited {clock.Elapsed}"); // the query alone runs far longer
        Assert.Equal("25P04", (await Assert.ThrowsAsync<PostgresException>(() => running)).SqlState);
    }

    private async Task AssertOthersServedAsync()
    {
        await using var other = await fixture.OpenAsync();
        await using var command = new NpgsqlCommand("select 'served'", other);
        Assert.Equal("served", await command.ExecuteScalarAsync());
    }
}
