using Npgsql;

namespace ZeroPg.Tests.Cli;

/// <summary>
/// `zeropg serve` runs client sockets' completions on the socket engine's threads (src/ZeroPg.Cli/InlineSocketCompletions.cs):
/// the switch reaches .NET in the server's process, not the --run command, and the server serves concurrent clients with it.
/// </summary>
public sealed class InlineSocketCompletionsTests
{
    private const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    [Fact]
    public async Task The_server_runs_with_inline_completions_and_serves_clients_at_once()
    {
        await using var cli = await CliProcess.StartReadyAsync("--port", "0");
        if (Environment.ProcessorCount > 1)
        {
            // .NET gives inline completions one socket engine thread per CPU, against one for up to 30 CPUs by default.
            var socketThreads = Directory.GetDirectories($"/proc/{cli.Process.Id}/task")
                .Count(task => File.ReadAllText(Path.Combine(task, "comm")).Trim() == ".NET Sockets");
            Assert.Equal(Environment.ProcessorCount, socketThreads);
        }

        // Clients at once, one of them cancelled mid-statement: every answer is its own.
        var clients = Enumerable.Range(0, 8).Select(async client =>
        {
            await using var connection = new NpgsqlConnection(cli.ConnectionString);
            await connection.OpenAsync();
            for (var i = 0; i < 50; i++)
            {
                await using var command = new NpgsqlCommand("select $1::int * 1000 + $2::int", connection);
                command.Parameters.AddWithValue(client);
                command.Parameters.AddWithValue(i);
                Assert.Equal(client * 1000 + i, await command.ExecuteScalarAsync());
            }
        }).ToList();
        await using (var sleeper = new NpgsqlConnection(cli.ConnectionString))
        {
            await sleeper.OpenAsync();
            await using var sleep = new NpgsqlCommand("select pg_sleep(30)", sleeper);
            var running = sleep.ExecuteNonQueryAsync();
            await Task.Delay(300);
            sleep.Cancel();
            var error = await Assert.ThrowsAsync<OperationCanceledException>(() => running); // Npgsql's way of reporting 57014
            Assert.Equal("57014", Assert.IsType<PostgresException>(error.InnerException).SqlState);
        }
        await Task.WhenAll(clients);
    }

    [Fact]
    public async Task A_run_command_does_not_see_the_switch()
    {
        await using var cli = await CliProcess.StartReadyAsync("--port", "0", "--run", $"test -z \"${Variable}\" || exit 9");
        Assert.Equal(0, await cli.WaitForExitAsync(TimeSpan.FromSeconds(60)));
    }
}
