using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

[Collection(ServerCollection.Name)]
public sealed class QueueMetricsTests(ServerFixture fixture)
{
    [Fact]
    public async Task A_client_waiting_behind_an_open_transaction_is_counted_with_its_wait_time()
    {
        var metrics = fixture.Server.Metrics;
        var waitsBefore = metrics.QueueWaits;
        var secondsBefore = metrics.QueueWaitSeconds;
        await using var a = await fixture.OpenAsync();
        await using var b = await fixture.OpenAsync();
        await a.ExecAsync("BEGIN");
        await a.ExecAsync("SELECT 1"); // a BEGIN alone is kept on paper: the first statement takes the engine
        var waiting = b.ScalarAsync("SELECT 1");
        await Eventually.QueuedAsync(fixture.Server);
        await a.ExecAsync("SELECT pg_sleep(0.3)"); // the engine stays busy for a while b waits
        await a.ExecAsync("COMMIT");
        await waiting;
        Assert.True(metrics.QueueWaits > waitsBefore);
        Assert.True(metrics.QueueWaitSeconds - secondsBefore >= 0.25, $"recorded {metrics.QueueWaitSeconds - secondsBefore} s");
    }

    [Fact]
    public async Task A_client_that_holds_the_engine_a_second_while_another_waits_is_counted()
    {
        var metrics = fixture.Server.Metrics;
        var before = metrics.LongEngineHolds;
        await using var a = await fixture.OpenAsync();
        await using var b = await fixture.OpenAsync();
        await a.ExecAsync("BEGIN");
        await a.ExecAsync("SELECT 1");
        var waiting = b.ScalarAsync("SELECT 1");
        await Eventually.QueuedAsync(fixture.Server);
        await a.ExecAsync("SELECT pg_sleep(1.1) AS held_for_the_hold_log");
        await a.ExecAsync("COMMIT");
        await waiting;
        Assert.True(metrics.LongEngineHolds > before);
        Assert.Matches(@"zeropg_engine_long_holds_total [1-9]", ZeroPg.Hosting.PrometheusText.Render(metrics));
    }
}
