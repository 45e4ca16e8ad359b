using Npgsql;
using ZeroPg.Sessions;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>
/// idle_session_timeout and idle_in_transaction_session_timeout as a client sets them, per client: its own
/// connection ends with Postgres's FATAL; the shared engine and the other clients are untouched.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class SessionTimeoutsTests(ServerFixture fixture)
{
    [Theory]
    [InlineData("300", 300)]
    [InlineData("300ms", 300)]
    [InlineData(" 2s ", 2_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("1min", 60_000)]
    [InlineData("2h", 7_200_000)]
    [InlineData("1d", 86_400_000)]
    [InlineData("500us", 0.5)]
    [InlineData("0", 0)]
    public void Postgres_time_settings_are_read_in_milliseconds(string text, double expected)
    {
        Assert.True(SessionTimeouts.TryParseMilliseconds(text, out var ms), text);
        Assert.Equal(expected, ms, 6);
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("5 parsecs")]
    public void Other_text_is_not_a_time(string text) => Assert.False(SessionTimeouts.TryParseMilliseconds(text, out _));

    [Fact]
    public async Task A_client_idle_past_its_idle_session_timeout_gets_57P05_and_others_go_on()
    {
        await using var client = await RawProtocolClient.ConnectAsync(fixture.Server);
        var set = await client.Query("set idle_session_timeout = '300ms'").RoundTripAsync();
        Assert.DoesNotContain(set, m => m.Code == 'E');
        var show = await client.SingleRowAsync("show idle_session_timeout");
        Assert.Equal("300ms", show[0]);

        var closing = await client.ReadUntilClosedAsync(TimeSpan.FromSeconds(15));
        var fatal = Assert.Single(closing);
        Assert.Equal("57P05", fatal.SqlState);
        Assert.Equal("FATAL", fatal.Field('S'));
        Assert.Equal("terminating connection due to idle-session timeout", fatal.MessageText);
        await AssertOthersServedAsync();
    }

    [Fact]
    public async Task A_client_idle_in_a_transaction_past_its_own_timeout_gets_25P03_and_its_work_is_rolled_back()
    {
        await using (var setup = await fixture.OpenAsync())
        await using (var create = new NpgsqlCommand("create table if not exists own_idle_tx (x int)", setup))
            await create.ExecuteNonQueryAsync();
        await using var client = await RawProtocolClient.ConnectAsync(fixture.Server);
        Assert.DoesNotContain(await client.Query("set idle_in_transaction_session_timeout = 300").RoundTripAsync(), m => m.Code == 'E');
        var begun = await client.Query("begin; insert into own_idle_tx values (1)").RoundTripAsync();
        Assert.DoesNotContain(begun, m => m.Code == 'E');
        Assert.Equal((byte)'T', begun[^1].Body[0]);

        var fatal = Assert.Single(await client.ReadUntilClosedAsync(TimeSpan.FromSeconds(15)));
        Assert.Equal("25P03", fatal.SqlState);
        Assert.Equal("terminating connection due to idle-in-transaction timeout", fatal.MessageText);

        await using var other = await fixture.OpenAsync();
        await using var count = new NpgsqlCommand("select count(*) from own_idle_tx", other);
        Assert.Equal(0L, await count.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_busy_client_outlives_its_idle_session_timeout()
    {
        await using var client = await RawProtocolClient.ConnectAsync(fixture.Server);
        // A query every 100 ms against a 2 s timeout for 3 s: the session outlives the timeout only because each query restarts
        // it. (400 ms failed on a loaded 2-core CI machine, where a 100 ms delay and a query took longer than that.)
        await client.Query("set idle_session_timeout = '2s'").RoundTripAsync();
        var until = DateTime.UtcNow.AddSeconds(3);
        while (DateTime.UtcNow < until)
        {
            Assert.Equal("1", (await client.SingleRowAsync("select 1"))[0]);
            await Task.Delay(100); // the workload: a query every 100 ms, each well inside the timeout
        }
        await client.Query("set idle_session_timeout = 0").RoundTripAsync();
        Assert.Equal("still here", (await client.SingleRowAsync("select 'still here'"))[0]);
    }

    private async Task AssertOthersServedAsync()
    {
        await using var other = await fixture.OpenAsync();
        await using var command = new NpgsqlCommand("select 'served'", other);
        Assert.Equal("served", await command.ExecuteScalarAsync());
    }
}
