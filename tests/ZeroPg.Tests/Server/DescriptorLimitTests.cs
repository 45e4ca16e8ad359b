using System.Net.Sockets;
using Npgsql;
using ZeroPg.Tests.Cli;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Server;

/// <summary>
/// At the file-descriptor limit the server refuses connections past its budget at accept and keeps running: no spinning
/// accept loop, memory flat, served again once the flood leaves (before: one core busy, RSS 316 to 475 MB in 20 s).
/// </summary>
public sealed class DescriptorLimitTests
{
    [Fact]
    [Trait("Category", "Slow")]
    public async Task Six_hundred_silent_sockets_under_ulimit_400_are_refused_past_the_budget_and_the_server_lives()
    {
        await using var cli = await CliProcess.StartReadyWithDescriptorLimitAsync(400, "--port", "0", "--max-connections", "1000");
        var port = cli.Ready.GetProperty("port").GetInt32();
        var rssBefore = ResidentBytes(cli.Process.Id);
        var flood = new List<Socket>();
        try
        {
            for (var i = 0; i < 600; i++)
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
                flood.Add(socket);
                await socket.ConnectAsync("127.0.0.1", port); // the kernel's backlog accepts; the server decides
            }
            await Eventually.WaitUntilAsync(() => cli.Stderr.Contains("maximum number of concurrent connections", StringComparison.Ordinal), "a connection refused past the budget", TimeSpan.FromSeconds(30));
            var cpuBefore = cli.Process.TotalProcessorTime;
            await Task.Delay(TimeSpan.FromSeconds(2)); // a measuring window, not a wait for state: an accept loop spinning at EMFILE burns it
            Assert.True(cli.Process.TotalProcessorTime - cpuBefore < TimeSpan.FromSeconds(1), "the server spins while at its descriptor limit");
            Assert.True(ResidentBytes(cli.Process.Id) < rssBefore + 100L * 1024 * 1024, "server memory grows while at its descriptor limit");
            Assert.Contains("descriptor limit 400", cli.Stderr);
        }
        finally
        {
            foreach (var socket in flood)
                socket.Dispose();
        }
        await Eventually.WaitUntilAsync(async () =>
        {
            try
            {
                await using var connection = new NpgsqlConnection(cli.ConnectionString);
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand("select 'served'", connection);
                return (string?)await command.ExecuteScalarAsync() == "served";
            }
            catch (NpgsqlException)
            {
                return false;
            }
        }, "served again after the flood", TimeSpan.FromSeconds(60));
        Assert.False(cli.Process.HasExited);
    }

    private static long ResidentBytes(int pid)
        => long.Parse(File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))[6..].Trim().Split(' ')[0],
            System.Globalization.CultureInfo.InvariantCulture) * 1024;
}
