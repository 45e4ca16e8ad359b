using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Xunit.Abstractions;
using ZeroPg.Tests.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Cli;

/// <summary>
/// What a new user meets before the server runs: help names the tool `zeropg`; a mistake a user can make (an unknown
/// flag, a busy port, a --db that is a file or cannot be written) is one or two lines on stderr saying what to do, with
/// stdout left empty (it carries only the ready line and command results) and a non-zero exit; the HTTP port's
/// per-request framework logs stay out of a default stderr.
/// </summary>
public sealed class CliMannersTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("--help")]
    [InlineData("serve", "--help")]
    [InlineData("check", "--help")]
    public async Task Help_names_the_tool_zeropg(params string[] arguments)
    {
        var result = await ZeroPgCli.RunAsync(arguments);

        Assert.Equal(0, result.ExitCode);
        Assert.Matches(@"Usage:\s+zeropg\b", result.Stdout);
        Assert.DoesNotContain("ZeroPg.Cli", result.Stdout);
    }

    [Theory]
    [InlineData("-h")]
    [InlineData("-?")]
    [InlineData("serve", "-h")]
    [InlineData("serve", "-?")]
    [InlineData("check", "-h")]
    [InlineData("backup", "list", "-h")]
    public async Task Dash_h_and_dash_question_mark_print_help_at_every_level(params string[] arguments)
    {
        var result = await ZeroPgCli.RunAsync(arguments);

        Assert.Equal(0, result.ExitCode);
        Assert.Matches(@"Usage:\s+zeropg\b", result.Stdout);
        if (arguments[0] == "serve")
            Assert.Matches(@"-H, --host", result.Stdout); // the host keeps its long form and gets -H
    }

    [Theory]
    [InlineData("--port", "abc", "--port expects a whole number, not 'abc'.")]
    [InlineData("--queue-wait-timeout", "soon", "--queue-wait-timeout expects a number (e.g. 1.5), not 'soon'.")]
    [InlineData("--log-level", "loud", "--log-level expects one of Trace, Debug, Information, Warning, Error, Critical, None, not 'loud'.")]
    public async Task A_value_of_the_wrong_kind_is_named_with_its_option_and_the_kind_in_words(string option, string value, string expected)
    {
        var result = await ZeroPgCli.RunAsync(["serve", option, value], timeout: TimeSpan.FromSeconds(60));

        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal("", result.Stdout);
        var lines = StderrLines(result);
        Assert.Equal($"zeropg serve: {expected}", lines[0]);
        Assert.DoesNotContain("System.", result.Stderr);
    }

    [Fact]
    public async Task With_an_http_port_the_ready_line_and_stderr_give_the_dashboard_url()
    {
        await using var cli = await CliProcess.StartReadyAsync("--port", "0", "--http-port", "0");
        var dashboard = cli.Ready.GetProperty("dashboard").GetString()!;
        Assert.Equal($"http://127.0.0.1:{cli.Ready.GetProperty("httpPort").GetInt32()}/", dashboard);
        await Eventually.WaitUntilAsync(() => cli.Stderr.Contains($"dashboard: {dashboard} "), "the dashboard line on stderr", TimeSpan.FromSeconds(5));
        using var http = new HttpClient();
        var page = await http.GetAsync(dashboard);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("text/html", page.Content.Headers.ContentType?.ToString());
    }

    [Theory]
    [InlineData("serve", "--bogus")]
    [InlineData("--bogus")]
    [InlineData("check", ".", "--bogus")]
    public async Task An_unknown_flag_is_a_short_error_on_stderr_and_stdout_stays_empty(params string[] arguments)
    {
        var result = await ZeroPgCli.RunAsync(arguments, timeout: TimeSpan.FromSeconds(60));

        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal("", result.Stdout);
        var lines = StderrLines(result);
        Assert.InRange(lines.Length, 1, 2);
        Assert.Contains("'--bogus'", lines[0]);
        var command = arguments[0] == "--bogus" ? "zeropg" : $"zeropg {arguments[0]}";
        Assert.Equal($"Try '{command} --help' for more information.", lines[^1]);
    }

    [Fact]
    public async Task A_busy_http_port_fails_in_one_line_before_the_engine_starts()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture);

        var clock = Stopwatch.StartNew();
        var result = await ZeroPgCli.RunAsync(["serve", "-p", "0", "--http-port", port], timeout: TimeSpan.FromSeconds(60));
        output.WriteLine($"exit {result.ExitCode} after {clock.ElapsedMilliseconds} ms (process start included): {result.Stderr}");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.Stdout);
        // One line and nothing else: the server's start (whose first log line is the descriptor limit) never began,
        // so no engine was waited for and no framework stack trace was logged.
        var line = Assert.Single(StderrLines(result));
        Assert.Contains($"HTTP port {port} on 127.0.0.1 (--http-port) is already in use", line);
        Assert.Contains("--http-port 0", line);
    }

    [Fact]
    public async Task A_data_directory_that_is_a_file_is_one_line_naming_it()
    {
        using var directory = new TempDirectory();
        var file = directory.Sub("data.db");
        await File.WriteAllTextAsync(file, "not a directory");

        foreach (var db in (string[])[file, Path.Combine(file, "below")])
        {
            var result = await ZeroPgCli.RunAsync(["serve", "-p", "0", "--db", db], timeout: TimeSpan.FromSeconds(60));

            Assert.Equal(1, result.ExitCode);
            Assert.Equal("", result.Stdout);
            var line = Assert.Single(StderrLines(result));
            Assert.Contains($"{file} is a file", line);
            Assert.Contains("memory://", line);
        }
        Assert.Equal("not a directory", await File.ReadAllTextAsync(file));
    }

    [Fact]
    public async Task A_data_directory_this_user_cannot_write_is_one_line_saying_permission_denied()
    {
        using var directory = new TempDirectory();
        var locked = directory.Sub("locked");
        Directory.CreateDirectory(locked);
        // root passes permission bits, but not the immutable attribute; other users are stopped by the mode.
        var asRoot = Environment.UserName == "root";
        if (asRoot)
            await RunAsync("chattr", "+i", locked);
        else
            await RunAsync("chmod", "555", locked);
        try
        {
            foreach (var db in (string[])[locked, Path.Combine(locked, "below")])
            {
                var result = await ZeroPgCli.RunAsync(["serve", "-p", "0", "--db", db], timeout: TimeSpan.FromSeconds(60));

                Assert.Equal(1, result.ExitCode);
                Assert.Equal("", result.Stdout);
                var line = Assert.Single(StderrLines(result));
                Assert.Contains($"--db {db}: permission denied", line);
            }
        }
        finally
        {
            if (asRoot)
                await RunAsync("chattr", "-i", locked);
            else
                await RunAsync("chmod", "755", locked);
        }
    }

    [Fact]
    public async Task Requests_to_the_http_port_are_logged_only_at_debug()
    {
        foreach (var (level, expected) in (ValueTuple<string, bool>[])[("Information", false), ("Debug", true)])
        {
            await using var cli = await CliProcess.StartReadyAsync("-p", "0", "--http-port", "0", "--log-level", level);
            var http = cli.Ready.GetProperty("httpPort").GetInt32();
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{http}") };
            for (var i = 0; i < 5; i++)
            {
                (await client.GetAsync("/healthz")).EnsureSuccessStatusCode();
                (await client.GetAsync("/api/status")).EnsureSuccessStatusCode();
            }
            await cli.SignalAsync("TERM");
            Assert.Equal(0, await cli.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            var stderr = cli.Stderr;
            output.WriteLine($"--log-level {level}: {StderrLines(stderr).Length} stderr lines");

            Assert.Equal(expected, stderr.Contains("Request starting", StringComparison.Ordinal));
            Assert.Equal(expected, stderr.Contains("Microsoft.AspNetCore", StringComparison.Ordinal));
            Assert.Equal(expected, stderr.Contains("Microsoft.Hosting.Lifetime", StringComparison.Ordinal));
            Assert.Contains("ZeroPg ready", stderr);
        }
    }

    private static string[] StderrLines(ExternalTool.Result result) => StderrLines(result.Stderr);

    private static string[] StderrLines(string stderr) => stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static async Task RunAsync(string program, params string[] arguments)
    {
        var result = await ExternalTool.RunAsync(program, arguments, timeout: TimeSpan.FromSeconds(30));
        Assert.True(result.ExitCode == 0, $"{program} {string.Join(' ', arguments)}: {result.All}");
    }
}
