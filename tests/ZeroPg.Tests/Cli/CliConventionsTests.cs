using System.Net;
using System.Net.Sockets;
using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Cli;

/// <summary>zeropg behaves as Postgres tools and the Postgres image do: short flags, PG* environment, --version.</summary>
public sealed class CliConventionsTests
{
    [Fact]
    public async Task Version_names_the_tool_Postgres_and_PGlite()
    {
        var result = await ZeroPgCli.RunAsync(["--version"]);

        Assert.Equal(0, result.ExitCode);
        Assert.Matches(@"^zeropg \d+\.\d+\.\d+\S* \(PostgreSQL 18\.\d+, PGlite \d+\.\d+\.\d+\)$", result.Stdout.Trim());
    }

    [Fact]
    public async Task A_busy_port_fails_in_one_line_before_the_engine_starts()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var result = await ZeroPgCli.RunAsync(["serve", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture)], timeout: TimeSpan.FromSeconds(60));

        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"port {port} on 127.0.0.1 is already in use", line);
        Assert.Equal("", result.Stdout); // no ready line: nothing was started
    }

    [Fact]
    public async Task PGPORT_sets_the_port_and_short_flags_set_host_and_data_directory()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        var data = Directory.CreateTempSubdirectory("zeropg-short-flags-").FullName;
        try
        {
            await using (var cli = await CliProcess.StartReadyAsync(
                new Dictionary<string, string> { ["PGPORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture), ["PORT"] = "1" },
                "-H", "127.0.0.1", "-D", data))
            {
                Assert.Equal(port, cli.Ready.GetProperty("port").GetInt32());
                await using var connection = new NpgsqlConnection(cli.ConnectionString);
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand("select 41 + 1", connection);
                Assert.Equal(42, await command.ExecuteScalarAsync());
            }
            Assert.NotEmpty(Directory.EnumerateFileSystemEntries(data)); // -D is the data directory
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task A_bad_port_in_the_environment_is_a_usage_error_naming_the_variable()
    {
        var result = await ZeroPgCli.RunAsync(["serve"], timeout: TimeSpan.FromSeconds(60), environment: new Dictionary<string, string> { ["PGPORT"] = "abc" });

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("PGPORT=abc is not a TCP port", result.Stderr);
    }
}
