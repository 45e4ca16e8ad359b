using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>
/// A pipeline of slow statements goes to the shared engine one statement per call (PipelineSlices): another client gets its
/// turn between them, and a client that leaves has the rest dropped at once. Before, 32 went in one call: the engine ran all of
/// them for whoever was waiting, and for a client long gone (a flood of ANALYZEs held the engine for a minute).
/// </summary>
public sealed class PipelineSlicesTests
{
    private const string SlowInsert = "insert into piped select 1 from pg_sleep(0.05)";

    [Fact]
    public async Task Another_client_is_served_between_the_slow_statements_of_a_pipeline()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var other = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await other.OpenAsync();
        await other.ExecAsync("create table piped(x int)");
        await using var piping = await RawProtocolClient.ConnectAsync(server);
        const int statements = 30; // under one call's most: before, all of them ran before anyone else
        for (var i = 0; i < statements; i++)
            piping.Query(SlowInsert);
        await piping.FlushAsync();
        await Eventually.WaitUntilAsync(async () => await other.ScalarAsync("select count(*) from piped", commandTimeout: 120) is > 0L,
            "the pipeline running");

        var seen = await other.ScalarAsync("select count(*) from piped", commandTimeout: 120);
        Assert.True(seen is < (long)statements, $"the other client's query waited for the whole pipeline ({seen} of {statements} inserts)");
        for (var i = 0; i < statements; i++)
            Assert.DoesNotContain(await piping.ReadUntilReadyAsync(), m => m.Code == 'E');
        Assert.Equal((long)statements, await other.ScalarAsync("select count(*) from piped", commandTimeout: 120));
    }

    [Fact]
    public async Task A_client_that_leaves_mid_pipeline_has_the_rest_dropped()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var other = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await other.OpenAsync();
        await other.ExecAsync("create table piped(x int)");
        var leaving = await RawProtocolClient.ConnectAsync(server);
        for (var i = 0; i < 200; i++)
            leaving.Query(SlowInsert);
        await leaving.FlushAsync();
        await Eventually.WaitUntilAsync(async () => await other.ScalarAsync("select count(*) from piped", commandTimeout: 120) is > 0L,
            "the pipeline running");
        leaving.Kill();
        await Eventually.WaitUntilAsync(() => server.Services.Registry.Sessions.Count() == 1, "the leaving client's session ended", TimeSpan.FromSeconds(60));

        var ran = (long)(await other.ScalarAsync("select count(*) from piped", commandTimeout: 120))!;
        Assert.True(ran < 16, $"{ran} of the 200 inserts ran: the rest of the pipeline went on after its client left");
    }

    [Fact]
    public async Task A_client_whose_connection_refuses_its_reply_leaves_no_setting_behind()
    {
        // The statement's reply meets a reset connection; its unit still ends as units do (the settings it changed are known,
        // and the departed client's cleanup undoes them), so the next client starts from the server's defaults. (Issue 59's
        // fuzzer once saw the witness's table "not exist" 17 minutes in, with no engine restart; this guards the suspected
        // path, a unit cut short by the lost client, but did not reproduce that failure.)
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        string? fresh;
        await using (var first = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false"))
        {
            await first.OpenAsync();
            fresh = (string?)await first.ScalarAsync("show search_path");
        }
        for (var round = 0; round < 3; round++)
        {
            var leaving = await RawProtocolClient.ConnectAsync(server);
            leaving.Query("select pg_sleep(0.3), set_config('search_path', 'nowhere', false)");
            for (var i = 0; i < 20; i++)
                leaving.Query(SlowInsert);
            await leaving.FlushAsync();
            leaving.Kill(); // RST: the reply's write fails
            await Eventually.WaitUntilAsync(() => !server.Services.Registry.Sessions.Any(), "the leaving client's session ended", TimeSpan.FromSeconds(60));

            await using var next = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
            await next.OpenAsync();
            Assert.Equal(fresh, await next.ScalarAsync("show search_path"));
        }
    }
}
