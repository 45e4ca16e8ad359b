using System.Diagnostics;
using System.Net.Sockets;
using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>
/// Backpressure for a client that does not read its results: ZeroPg buffers only what the socket and the pipe hold,
/// the engine waits on it for at most ClientWriteTimeout, then that client is disconnected and its statement
/// cancelled in the engine; the others are served again and memory stays flat (before: everyone waited forever).
/// </summary>
public sealed class UnreadResultsTests
{
    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_client_that_never_reads_a_gigabyte_result_is_dropped_after_the_bound_and_others_are_served()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { ClientWriteTimeout = TimeSpan.FromSeconds(3) }, TestLogging.Factory);
        var rssBefore = Process.GetCurrentProcess().WorkingSet64;
        var engine = server.EngineId;
        await using var greedy = await RawProtocolClient.ConnectAsync(server);
        await greedy.Query("select repeat('x', 1000000) from generate_series(1, 1000)").FlushAsync(); // 1 GB of rows, never read

        await using var witness = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false;Timeout=30");
        await witness.OpenAsync();
        await using var command = new NpgsqlCommand("select 'served'", witness) { CommandTimeout = 60 };
        var clock = Stopwatch.StartNew();
        Assert.Equal("served", await command.ExecuteScalarAsync());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"the witness waited {clock.Elapsed}");

        // The greedy client's connection was closed: what it can still read ends without its ReadyForQuery.
        var tail = await greedy.ReadUntilClosedAsync(TimeSpan.FromSeconds(30));
        Assert.DoesNotContain(tail, m => m.Code == 'Z');
        Assert.Equal(engine, server.EngineId); // cancelled in the engine, not by killing it
        Process.GetCurrentProcess().Refresh();
        Assert.True(Process.GetCurrentProcess().WorkingSet64 < rssBefore + 200L * 1024 * 1024, "the unread result was buffered in the server");
    }

    [Fact]
    public async Task A_client_that_leaves_its_replies_unread_keeps_nobody_waiting_between_its_statements_and_loses_none()
    {
        // Neither bound: before, the engine reader waited on the unread socket for as long as the write timeout allowed (30 s by
        // default), every other client behind it; with no bound that wait never ends and the witness below times out.
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { ClientWriteTimeout = TimeSpan.Zero, ContendedIdleTimeout = TimeSpan.Zero },
            TestLogging.Factory);
        await using var greedy = await RawProtocolClient.ConnectAsync(server);
        const int statements = 640, rowBytes = 30_000; // ~19 MB of replies, far more than the sockets hold; each engine call's under a MB
        for (var i = 0; i < statements; i++)
            greedy.Query($"select {i}, repeat('x', {rowBytes})");
        await greedy.FlushAsync(); // and read nothing for now

        await using var witness = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false;Timeout=60");
        await witness.OpenAsync();
        for (var round = 0; round < 20; round++)
        {
            await using var command = new NpgsqlCommand($"select {round}", witness) { CommandTimeout = 60 };
            Assert.Equal(round, await command.ExecuteScalarAsync());
        }

        // Every reply reaches the greedy client once it reads, whole and in order.
        for (var i = 0; i < statements; i++)
        {
            var reply = await greedy.ReadUntilReadyAsync(TimeSpan.FromSeconds(60));
            var row = reply.Single(m => m.Code == 'D').Columns();
            Assert.Equal(i.ToString(System.Globalization.CultureInfo.InvariantCulture), row[0]);
            Assert.Equal(rowBytes, row[1]!.Length);
        }
    }

    [Fact]
    public async Task A_client_that_reads_late_gets_every_reply_whole()
    {
        // A reply whose flush the client's socket could not take at once can end with its tail waiting in the server: it goes
        // out before the session waits for the client's next message (before, it waited for that message: both sides stuck).
        // Where the socket's capacity ends depends on the kernel, so the replies grow past it in steps of 256 KB.
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var client = await RawProtocolClient.ConnectAsync(server, receiveBuffer: 16 * 1024);
        for (var rows = 256; rows <= 6 * 1024; rows += 256) // 1 KB rows: 256 KB to 6 MB
        {
            await client.Query($"select g, repeat('x', 1000) from generate_series(1, {rows}) g").FlushAsync();
            try
            {
                // The statement done and its reply written as far as the socket takes it (a reply far past it keeps the statement
                // running until the client reads: then this gives up, and the client reads all the same).
                await Eventually.WaitUntilAsync(() => server.Services.Registry.Sessions.All(s => s.Activity.Current.State == "idle"),
                    "the statement done", TimeSpan.FromSeconds(2));
            }
            catch (TimeoutException)
            {
            }
            var reply = await client.ReadUntilReadyAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(rows, reply.Count(m => m.Code == 'D'));
        }
    }
}
