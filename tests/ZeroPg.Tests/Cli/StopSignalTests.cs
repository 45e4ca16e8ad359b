using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;
using Xunit.Abstractions;
using ZeroPg.Tests.Engine;

namespace ZeroPg.Tests.Cli;

/// <summary>
/// Stop signals that reach the server's whole process group, the engine host included: Ctrl+C in a terminal (SIGINT to its
/// foreground group) and SIGTERM from `timeout`, `kill -- -PGID` or systemd's stop (every process of the unit). The server
/// must stop as it does on its own SIGTERM: the engine checkpoints and closes, nothing restarts, exit code 0, and the data
/// directory is shut down cleanly with the committed rows in it. Ctrl+C is driven through a real pseudo-terminal (python3's
/// pty module), whose line discipline turns the ^C byte into the group's SIGINT.
/// </summary>
public sealed partial class StopSignalTests(ITestOutputHelper output)
{
    // Runs the CLI on a new pty (its own session, the pty its controlling terminal, the CLI in the foreground group), copies
    // everything the terminal shows to stdout, types ^C when a line arrives on stdin, and prints the exit code at the end.
    // The CLI gets SIGINT's default disposition, as a shell gives its foreground job: a test runner started in the background
    // by a non-interactive shell ignores SIGINT, and an ignore survives exec (the CLI reclaims an ignored SIGINT too:
    // Sigint_stops_a_server_that_inherited_it_ignored).
    private const string PtyDriver = """
        import os, pty, signal, sys, threading
        pid, fd = pty.fork()
        if pid == 0:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.execvp(sys.argv[1], sys.argv[1:])
        def type_ctrl_c():
            sys.stdin.readline()
            os.write(fd, b"\x03")
        threading.Thread(target=type_ctrl_c, daemon=True).start()
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        _, status = os.waitpid(pid, 0)
        print("\nPTY-EXIT %d" % os.waitstatus_to_exitcode(status), flush=True)
        """;

    // ControlFileData begins with system_identifier (8 bytes), pg_control_version and catalog_version_no (4 each), then
    // state: DB_SHUTDOWNED is 1 (a clean shutdown's checkpoint), DB_IN_PRODUCTION 6 (an engine that did not close).
    private const int ControlFileStateOffset = 16;
    private const int ShutDown = 1;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Ctrl_c_in_a_terminal_stops_the_server_cleanly_and_the_data_directory_reopens(bool dataDirectory)
    {
        using var directory = new TempDirectory();
        var db = dataDirectory ? directory.Sub("db") : ZeroPgOptions.MemoryDatabase;
        var script = Path.Combine(directory.Path, "ctrl_c_terminal.py");
        await File.WriteAllTextAsync(script, PtyDriver);

        var start = new ProcessStartInfo("python3")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var word in (string[])[script, "dotnet", Path.Combine(AppContext.BaseDirectory, "ZeroPg.Cli.dll"), "serve", "-p", "0", "--db", db])
            start.ArgumentList.Add(word);
        using var driver = Process.Start(start)!;
        var driverErrors = driver.StandardError.ReadToEndAsync();
        var readyLine = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var reading = Task.Run(async () =>
        {
            while (await driver.StandardOutput.ReadLineAsync() is { } line)
            {
                lock (_terminal)
                    _terminal.AppendLine(line);
                if (line.TrimStart().StartsWith("{\"port\"", StringComparison.Ordinal))
                    readyLine.TrySetResult(line.Trim());
            }
            readyLine.TrySetException(new InvalidOperationException($"the terminal closed before the ready line: {Terminal()} {await driverErrors}"));
        });
        try
        {
            var ready = JsonDocument.Parse(await readyLine.Task.WaitAsync(TimeSpan.FromSeconds(90))).RootElement;
            var connectionString = $"Host=127.0.0.1;Port={ready.GetProperty("port").GetInt32()};Username=postgres;Pooling=false;Timeout=30";
            await using (var connection = new NpgsqlConnection(connectionString))
            {
                await connection.OpenAsync();
                await using var write = new NpgsqlCommand("create table kept(id int primary key, note text); insert into kept values (1, 'before ctrl-c')", connection);
                await write.ExecuteNonQueryAsync();
            }
            var enginePid = int.Parse(EngineStarted().Match(Terminal()).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

            await driver.StandardInput.WriteLineAsync("^C");
            await driver.StandardInput.FlushAsync();
            try
            {
                await driver.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"the terminal did not close within 60 s of ^C; still running: {Descendants(driver.Id)}; it showed: {Terminal()}");
            }
            await reading;
            var shown = Regex.Replace(Terminal(), @"\x1b\[[0-9;?]*[a-zA-Z=>]|\x1b[=>]", "");
            output.WriteLine(shown);

            Assert.Contains("^C", shown); // the terminal echoed it: the SIGINT came from the line discipline
            Assert.Matches(@"PTY-EXIT 0\s*$", shown);
            Assert.DoesNotContain("engine died", shown);
            Assert.DoesNotContain("restarting", shown);
            Assert.DoesNotContain("CHECKPOINT at shutdown failed", shown);
            Assert.Single(EngineStarted().Matches(shown)); // no second engine started during the stop
            Assert.False(CliProcess.IsRunning(enginePid), $"engine host {enginePid} outlived the server");
        }
        finally
        {
            if (!driver.HasExited)
                driver.Kill(entireProcessTree: true);
        }

        if (!dataDirectory)
            return; // memory://: nothing to reopen

        await AssertShutDownCleanlyWithAsync(db, "before ctrl-c");
    }

    [Fact]
    public async Task Sigint_stops_a_server_that_inherited_it_ignored()
    {
        // `zeropg serve &` in a script, or nohup: the server starts with SIGINT ignored, and Postgres would still stop on it.
        using var directory = new TempDirectory();
        var db = directory.Sub("db");
        await using var cli = await CliProcess.StartReadyWithSigintIgnoredAsync("-p", "0", "--db", db);
        await using (var connection = new NpgsqlConnection(cli.ConnectionString))
        {
            await connection.OpenAsync();
            await using var write = new NpgsqlCommand("create table kept(id int primary key, note text); insert into kept values (1, 'before sigint')", connection);
            await write.ExecuteNonQueryAsync();
        }

        await cli.SignalAsync("INT");

        Assert.Equal(0, await cli.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("shutting down", cli.Stderr, StringComparison.Ordinal);
        await AssertShutDownCleanlyWithAsync(db, "before sigint");
    }

    [Fact]
    public async Task Sigterm_to_the_whole_process_group_stops_the_server_cleanly_and_the_data_directory_reopens()
    {
        using var directory = new TempDirectory();
        var db = directory.Sub("db");
        // setsid: the CLI leads a process group of its own (it is not a group leader, so setsid execs it in place: same pid).
        var start = new ProcessStartInfo("setsid") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var word in (string[])["dotnet", Path.Combine(AppContext.BaseDirectory, "ZeroPg.Cli.dll"), "serve", "-p", "0", "--db", db])
            start.ArgumentList.Add(word);
        using var cli = Process.Start(start)!;
        var stderr = cli.StandardError.ReadToEndAsync();
        try
        {
            var ready = JsonDocument.Parse(await cli.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(90)) ?? "null").RootElement;
            var connectionString = $"Host=127.0.0.1;Port={ready.GetProperty("port").GetInt32()};Username=postgres;Pooling=false;Timeout=30";
            await using (var connection = new NpgsqlConnection(connectionString))
            {
                await connection.OpenAsync();
                await using var write = new NpgsqlCommand("create table kept(id int primary key, note text); insert into kept values (1, 'before sigterm')", connection);
                await write.ExecuteNonQueryAsync();
            }
            var group = ProcessGroup(cli.Id);
            Assert.Equal(cli.Id, group);
            var members = Directory.EnumerateDirectories("/proc").Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
                .Where(pid => pid > 0 && pid != cli.Id && ProcessGroup(pid) == group).ToList();
            Assert.NotEmpty(members); // the engine host is in the group: the signal reaches it too

            using (var kill = Process.Start("kill", ["-TERM", "--", $"-{group}"]))
                await kill.WaitForExitAsync();
            await cli.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            var log = await stderr;
            output.WriteLine(log);

            Assert.Equal(0, cli.ExitCode);
            Assert.DoesNotContain("died", log);
            Assert.DoesNotContain("CHECKPOINT at shutdown failed", log);
            Assert.Single(EngineStarted().Matches(log)); // no second engine started during the stop
            Assert.All(members, pid => Assert.False(CliProcess.IsRunning(pid), $"process {pid} of the group outlived the server"));
        }
        finally
        {
            if (!cli.HasExited)
                cli.Kill(entireProcessTree: true);
        }

        await AssertShutDownCleanlyWithAsync(db, "before sigterm");
    }

    /// <summary>The directory's pg_control says it was shut down cleanly, and a new server finds the row kept before the stop.</summary>
    private static async Task AssertShutDownCleanlyWithAsync(string db, string note)
    {
        var control = await File.ReadAllBytesAsync(Path.Combine(db, "global", "pg_control"));
        Assert.Equal(ShutDown, BinaryPrimitives.ReadInt32LittleEndian(control.AsSpan(ControlFileStateOffset)));
        await using var again = await CliProcess.StartReadyAsync("-p", "0", "--db", db);
        await using var reopened = new NpgsqlConnection(again.ConnectionString);
        await reopened.OpenAsync();
        await using var read = new NpgsqlCommand("select note from kept where id = 1", reopened);
        Assert.Equal(note, await read.ExecuteScalarAsync());
    }

    /// <summary>The process group of <paramref name="pid"/> (/proc/PID/stat's fifth field, after the command in parentheses); 0 when it is gone.</summary>
    private static int ProcessGroup(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[2], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private readonly StringBuilder _terminal = new();

    // The processes below pid, with their command lines: which one kept the terminal open.
    private static string Descendants(int pid)
    {
        var found = new List<string>();
        var pending = new Queue<int>([pid]);
        while (pending.TryDequeue(out var next))
        {
            try
            {
                foreach (var child in CliProcess.ChildrenOf(next))
                {
                    found.Add($"{child} ({File.ReadAllText($"/proc/{child}/cmdline").Replace('\0', ' ').Trim()})");
                    pending.Enqueue(child);
                }
            }
            catch (IOException)
            {
                // gone meanwhile
            }
        }
        return found.Count == 0 ? "none" : string.Join(", ", found);
    }

    private string Terminal()
    {
        lock (_terminal)
            return _terminal.ToString();
    }

    [GeneratedRegex(@"engine of database postgres started: pid (\d+)")]
    private static partial Regex EngineStarted();
}
