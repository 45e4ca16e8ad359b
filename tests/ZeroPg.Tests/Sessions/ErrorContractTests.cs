using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>An ERROR raised anywhere in a unit is answered with ErrorResponse and ReadyForQuery, and the client stays connected; only FATAL closes.</summary>
[Collection(ServerCollection.Name)]
public sealed class ErrorContractTests(ServerFixture fixture)
{
    [Fact]
    public async Task A_unit_dropped_before_it_ran_gets_the_error_up_to_its_sync_and_what_was_pipelined_after_it_runs()
    {
        await using var holder = await fixture.OpenAsync();
        await holder.ExecAsync("BEGIN; SELECT 1");
        await using var waiter = await RawProtocolClient.ConnectAsync(fixture.Server);
        await waiter.Parse("", "select 41").Bind("", "").Execute().Sync().Query("select 42").FlushAsync();
        await Eventually.QueuedAsync(fixture.Server);

        await using (var canceller = await RawProtocolClient.ConnectWithoutStartupAsync(fixture.Server))
            await canceller.CancelRequest(waiter.BackendKey).FlushAsync();
        var reply = await waiter.ReadUntilReadyAsync();
        Assert.Equal("EZ", string.Concat(reply.Select(m => m.Code))); // the error, and the Sync's ReadyForQuery
        Assert.Equal("57014", reply[0].SqlState);
        // As in Postgres, the cancel was for what ran (or waited): the Query sent after the Sync runs once the engine is free.
        await holder.ExecAsync("COMMIT");
        var query = await waiter.ReadUntilReadyAsync();
        Assert.Equal("TDCZ", string.Concat(query.Select(m => m.Code)));
        Assert.Equal("42", query[1].Columns()[0]);

        Assert.Equal("43", (await waiter.SingleRowAsync("select 43"))[0]);
    }

    [Fact]
    public async Task A_refused_query_is_an_error_in_order_and_the_client_goes_on()
    {
        await using var client = await RawProtocolClient.ConnectAsync(fixture.Server);
        var reply = await client.Query("select 1; copy nowhere from stdin").RoundTripAsync();
        Assert.Equal("EZ", string.Concat(reply.Select(m => m.Code)));
        Assert.Equal("0A000", reply[0].SqlState);
        Assert.Equal("2", (await client.SingleRowAsync("select 2"))[0]);
    }

    [Fact]
    public async Task A_setting_name_the_engine_refuses_does_not_fail_the_next_client()
    {
        // A client's startup setting that is no valid name: as in Postgres, that client gets FATAL 42704 before it is in
        // (StartupSettingsCheck), so the setting never reaches the engine session and the next client is not failed by it.
        var table = $"bad_setting_{Guid.NewGuid():N}";
        await using var other = await fixture.OpenAsync();
        await other.ExecAsync($"create table {table} (x int)");
        await using var odd = await RawProtocolClient.ConnectWithoutStartupAsync(fixture.Server);
        await odd.Bytes(RawProtocolClient.StartupPacket(RawProtocolClient.ProtocolVersion3, "user", "postgres", "bad name", "x")).FlushAsync();
        var refused = Assert.Single(await odd.ReadUntilClosedAsync(), m => m.Code == 'E');
        Assert.Equal(("42704", "unrecognized configuration parameter \"bad name\""), (refused.SqlState, refused.MessageText));

        await using var next = await fixture.OpenAsync();
        await using (var import = await next.BeginTextImportAsync($"copy {table} from stdin"))
            await import.WriteAsync("1\n");
        Assert.Equal(1L, await other.ScalarAsync($"select count(*) from {table}"));
    }
}
