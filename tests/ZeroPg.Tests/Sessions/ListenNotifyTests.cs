using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

[Collection(ServerCollection.Name)]
public class ListenNotifyTests(ServerFixture fixture)
{
    [Fact]
    public async Task A_listening_client_gets_another_clients_notify_with_the_senders_process_id()
    {
        await using var a = await fixture.OpenAsync();
        await using var b = await fixture.OpenAsync();
        var received = new TaskCompletionSource<NpgsqlNotificationEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        a.Notification += (_, e) => received.TrySetResult(e);
        await a.ExecAsync("LISTEN jobs");
        await b.ExecAsync("NOTIFY jobs, 'payload-1'");

        var wait = a.WaitAsync(TimeSpan.FromSeconds(5)); // idle client: delivered without it sending anything
        var notification = await received.Task.WaitAsync(TimeSpan.FromSeconds(5));
        await wait;
        Assert.Equal("jobs", notification.Channel);
        Assert.Equal("payload-1", notification.Payload);
        Assert.Equal(b.ProcessID, notification.PID);
    }

    [Fact]
    public async Task Non_listeners_get_nothing_and_unlisten_only_affects_its_client()
    {
        await using var a = await fixture.OpenAsync();
        await using var b = await fixture.OpenAsync();
        await using var c = await fixture.OpenAsync();
        var gotA = 0;
        var gotC = 0;
        a.Notification += (_, _) => Interlocked.Increment(ref gotA);
        c.Notification += (_, _) => Interlocked.Increment(ref gotC);
        var sentinel = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        c.Notification += (_, e) =>
        {
            if (e.Channel == "news_sentinel")
                sentinel.TrySetResult();
        };
        await a.ExecAsync("LISTEN news");
        await c.ExecAsync("LISTEN news; LISTEN news_sentinel");
        await c.ExecAsync("UNLISTEN news");
        await b.ExecAsync("NOTIFY news, 'x'");
        await b.ExecAsync("NOTIFY news_sentinel");
        await a.WaitAsync(TimeSpan.FromSeconds(5));
        // Notifications arrive in order: once c has the later one, it would have had the first too.
        var waiting = c.WaitAsync(TimeSpan.FromSeconds(5));
        await sentinel.Task.WaitAsync(TimeSpan.FromSeconds(5));
        await waiting;
        Assert.Equal(1, gotA);
        Assert.Equal(1, gotC); // the sentinel only
    }

    [Fact]
    public async Task A_notify_in_a_rolled_back_transaction_is_not_delivered()
    {
        await using var a = await fixture.OpenAsync();
        await using var b = await fixture.OpenAsync();
        var payloads = new List<string>();
        a.Notification += (_, e) => { lock (payloads) payloads.Add(e.Payload); };
        await a.ExecAsync("LISTEN rb");
        await b.ExecAsync("BEGIN; NOTIFY rb, 'lost'; ROLLBACK");
        await b.ExecAsync("BEGIN; NOTIFY rb, 'kept'; COMMIT");
        await Eventually.WaitUntilAsync(async () =>
        {
            await a.WaitAsync(TimeSpan.FromMilliseconds(100));
            lock (payloads)
                return payloads.Contains("kept");
        }, "the committed notification delivered");
        // A rolled back one would have come first: notifications arrive in commit order.
        lock (payloads)
            Assert.Equal(["kept"], payloads);
    }

    [Fact]
    public async Task Pg_listening_channels_shows_each_client_its_own_channels()
    {
        await using var a = await fixture.OpenAsync();
        await using var b = await fixture.OpenAsync();
        await a.ExecAsync("LISTEN own_a1; LISTEN \"Own'A2\"");
        await b.ExecAsync("LISTEN own_b");
        const string Channels = "select coalesce(string_agg(c, ',' order by c), '') from pg_listening_channels() c";

        Assert.Equal("Own'A2,own_a1", await a.TextAsync(Channels));
        Assert.Equal("own_b", await b.TextAsync(Channels));
        await a.ExecAsync("UNLISTEN own_a1");
        Assert.Equal("Own'A2", await a.TextAsync("select string_agg(c, ',') from pg_catalog.pg_listening_channels() as c"));
        await using var c = await fixture.OpenAsync();
        Assert.Equal("", await c.TextAsync(Channels));
    }
}
