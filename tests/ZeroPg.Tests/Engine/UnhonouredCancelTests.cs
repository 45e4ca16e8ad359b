using System.Buffers.Binary;
using System.Net.Sockets;
using Npgsql;
using Xunit.Abstractions;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Engine;

/// <summary>
/// Issue 59: the batches an outside fuzzer found running on past their cancel, until the server killed the engine (and,
/// on memory://, every client's data with it). Each is a batch whose cancel the engine did honour, or could not act on
/// because its client did not read, and which must cost no engine; and the memory:// policy for a cancel truly ignored.
/// A data directory with a 1 s bound: a kill would show as a restart within the test.
/// </summary>
[Trait("Category", "Slow")]
public sealed class UnhonouredCancelTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task A_pipeline_of_queries_whose_running_one_is_cancelled_goes_on_without_an_engine_kill()
    {
        using var directory = new TempDirectory();
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = directory.Sub("db"), CancelRestartAfter = Bound }, TestLogging.Factory);
        await using var client = await RawProtocolClient.ConnectAsync(server);
        // One write of many Queries: the session sends them to the engine in batches of many. The cancel stops the one running
        // (57014), and the others run on, as in Postgres: the batch runs far past its cancel, yet the cancel was honoured.
        const int queries = 150;
        for (var i = 0; i < queries; i++)
            client.Query("select count(*) from generate_series(1, 300000)");
        await client.FlushAsync();
        await EngineProbe.RunningAsync(server);
        await Task.Delay(200);
        await using (var canceller = await RawProtocolClient.ConnectWithoutStartupAsync(server))
            await canceller.CancelRequest(client.BackendKey).FlushAsync();
        var replies = new List<RawProtocolClient.Message>();
        for (var ready = 0; ready < queries;)
        {
            var message = await client.ReadMessageAsync(TimeSpan.FromSeconds(120)) ?? throw new InvalidOperationException("closed");
            replies.Add(message);
            if (message.Code == 'Z')
                ready++;
        }
        var cancelled = replies.Count(m => m.Code == 'E');
        output.WriteLine($"{cancelled} of {queries} queries cancelled; restarts {server.Services.Engine.Restarts}");
        Assert.All(replies.Where(m => m.Code == 'E'), e => Assert.Equal("57014", e.SqlState));
        Assert.True(cancelled < queries, "the queries after the cancelled one run on");
        Assert.Equal(0, server.Services.Engine.Restarts);
        Assert.All(server.Metrics.UnhonouredCancels(), c => Assert.Equal(0, c.Count));
    }

    [Fact]
    public async Task A_cancelled_statement_whose_client_reads_nothing_costs_no_engine_and_other_clients_go_on()
    {
        using var directory = new TempDirectory();
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = directory.Sub("db"), CancelRestartAfter = Bound }, TestLogging.Factory);
        await using var other = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await other.OpenAsync();
        await other.ExecAsync("create table kept(x int); insert into kept values (1)");

        // A client that asks for a reply far larger than any buffer and reads none of it: the engine host blocks in its write
        // of the reply, inside the query, where Postgres checks no interrupt.
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await socket.ConnectAsync(server.Host, server.Port);
        var key = await StartupAsync(socket);
        await socket.SendAsync(RawProtocolClient.TypedMessage('Q', RawProtocolClient.CString("select repeat('x', 10000) from generate_series(1, 1000000)")));
        await EngineProbe.RunningAsync(server);
        await Task.Delay(TimeSpan.FromSeconds(1)); // every buffer on the way fills
        await using (var canceller = await RawProtocolClient.ConnectWithoutStartupAsync(server))
            await canceller.CancelRequest(key).FlushAsync();

        // The client is dropped (it cancelled and reads nothing): the others go on, nothing is killed.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(1L, await other.ScalarAsync("select count(*) from kept", commandTimeout: 60));
        output.WriteLine($"the other client's statement took {clock.ElapsedMilliseconds} ms; restarts {server.Services.Engine.Restarts}");
        Assert.Equal(0, server.Services.Engine.Restarts);
        Assert.All(server.Metrics.UnhonouredCancels(), c => Assert.Equal(0, c.Count));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"the other client waited {clock.Elapsed}");
        await Eventually.WaitUntilAsync(() => server.Services.Registry.Sessions.Count() == 1, "the client that read nothing dropped");
    }

    [Fact]
    public async Task A_memory_engine_that_ignores_a_cancel_is_waited_for_and_reported_and_keeps_every_clients_data()
    {
        var options = new ZeroPgOptions
        {
            CancelRestartAfter = Bound,
            EngineHostEnvironment = new Dictionary<string, string> { ["ZEROPG_TEST_IGNORE_CANCEL"] = "1" },
        };
        await using var server = await ZeroPgServer.StartAsync(options, TestLogging.Factory);
        await using var client = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false;Cancellation Timeout=30000");
        await client.OpenAsync();
        await client.ExecAsync("create table kept(x int); insert into kept values (1)");

        await using var sleep = new NpgsqlCommand("select pg_sleep(3)", client) { CommandTimeout = 60 };
        var running = sleep.ExecuteNonQueryAsync();
        await EngineProbe.StatementRunningAsync(server, sleep.CommandText);
        sleep.Cancel();
        await running; // ignored: the statement ends on its own, as the cancel came too late for Postgres too

        Assert.Equal(0, server.Services.Engine.Restarts);
        Assert.Equal(1L, await client.ScalarAsync("select count(*) from kept"));
        Assert.Contains(server.Metrics.UnhonouredCancels(), c => c is { Reason: "user", Action: "waited", Count: 1 });
        Assert.All(server.Metrics.UnhonouredCancels().Where(c => c.Action == "killed"), c => Assert.Equal(0, c.Count));
        var metrics = global::ZeroPg.Hosting.PrometheusText.Render(server.Metrics);
        Assert.Contains("zeropg_cancels_unhonoured_total{reason=\"user\",action=\"waited\"} 1", metrics);
        Assert.Contains("zeropg_engine_kills_total{reason=\"user\"} 0", metrics);
    }

    [Fact]
    public void A_batch_head_names_its_message_kinds_and_the_start_of_its_sql()
    {
        var frame = new List<byte> { (byte)'B', 0, 0, 0, 0 };
        for (var i = 0; i < 3; i++)
            frame.AddRange(RawProtocolClient.TypedMessage('Q', RawProtocolClient.CString("select 1;\n" + new string('x', 300))));
        frame.AddRange(RawProtocolClient.TypedMessage('S', []));
        var head = ZeroPg.Engine.BatchHead.Describe(frame.ToArray());
        Assert.StartsWith("batch of ", head);
        Assert.Contains("4 messages: Q x3 S", head);
        Assert.Contains("SQL: \"select 1;\\x0a" + new string('x', 190) + "\"...", head);
    }

    /// <summary>A startup on a bare socket; returns the BackendKeyData body a CancelRequest carries.</summary>
    private static async Task<byte[]> StartupAsync(Socket socket)
    {
        await socket.SendAsync(RawProtocolClient.StartupPacket(RawProtocolClient.ProtocolVersion3, "user", "postgres", "database", "postgres"));
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        byte[]? key = null;
        var header = new byte[5];
        while (true)
        {
            await stream.ReadExactlyAsync(header);
            var body = new byte[BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(1)) - 4];
            await stream.ReadExactlyAsync(body);
            if (header[0] == 'K')
                key = body;
            if (header[0] == 'Z')
                return key ?? throw new InvalidOperationException("no BackendKeyData");
        }
    }
}
