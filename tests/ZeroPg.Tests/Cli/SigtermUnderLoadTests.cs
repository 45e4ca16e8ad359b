using System.Diagnostics;
using System.Net.Sockets;
using Npgsql;
using Xunit.Abstractions;
using ZeroPg.Tests.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Cli;

/// <summary>
/// Issue 59: SIGTERM stops the server within 10 s whatever the engine is doing (Postgres's fast shutdown), exit code 0.
/// The load: a long statement, a pipeline of many queries, and a client that asked for a huge reply and reads none of it.
/// </summary>
[Trait("Category", "Slow")]
public sealed class SigtermUnderLoadTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("memory", "shared")]
    [InlineData("disk", "process")]
    public async Task Sigterm_stops_a_busy_server_within_10_s_with_exit_code_0(string storage, string engineHost)
    {
        using var directory = new TempDirectory();
        var db = storage == "memory" ? ZeroPgOptions.MemoryDatabase : directory.Sub("db");
        await using var cli = await CliProcess.StartReadyAsync("-p", "0", "--db", db, "--engine-host", engineHost);
        var port = cli.Ready.GetProperty("port").GetInt32();

        await using var longQuery = new NpgsqlConnection(cli.ConnectionString);
        await longQuery.OpenAsync();
        await using var sleep = new NpgsqlCommand("select count(*) from generate_series(1, 2000000000)", longQuery) { CommandTimeout = 0 };
        var running = sleep.ExecuteScalarAsync();

        await using var pipeline = await RawProtocolClient.ConnectAsync("127.0.0.1", port);
        for (var i = 0; i < 2000; i++)
            pipeline.Query("select count(*) from generate_series(1, 100000)");
        await pipeline.FlushAsync();

        using var unread = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await unread.ConnectAsync("127.0.0.1", port);
        await unread.SendAsync(RawProtocolClient.StartupPacket(RawProtocolClient.ProtocolVersion3, "user", "postgres", "database", "postgres"));
        await unread.SendAsync(RawProtocolClient.TypedMessage('Q', RawProtocolClient.CString("select repeat('x', 10000) from generate_series(1, 1000000)")));
        await Task.Delay(TimeSpan.FromSeconds(2)); // all three are under way

        var clock = Stopwatch.StartNew();
        await cli.SignalAsync("TERM");
        var exitCode = await cli.WaitForExitAsync(TimeSpan.FromSeconds(60));
        output.WriteLine($"stopped {clock.ElapsedMilliseconds} ms after SIGTERM, exit code {exitCode}\n{cli.Stderr}");
        Assert.Equal(0, exitCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the server took {clock.Elapsed} to stop");
        await Assert.ThrowsAnyAsync<Exception>(() => running); // its session was ended (FATAL 57P01 or the connection closed)
        Assert.False(CliProcess.IsRunning(cli.Process.Id));
    }
}
