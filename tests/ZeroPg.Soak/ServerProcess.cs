using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace ZeroPg.Soak;

/// <summary>
/// The `zeropg serve --db DIR` child process, started again on the same directory, port and HTTP port after each kill,
/// with TMPDIR a folder of the run's own (what is left there after the last stop is a leftover). Its stderr is appended to
/// the server log. One owner: the soak's fault loop starts, kills and stops it; workloads read only the port.
/// </summary>
public sealed class ServerProcess
{
    private readonly SoakOptions _options;
    private readonly string _databaseIdleTimeout;
    private readonly StreamWriter _log;
    private Process? _process;

    public ServerProcess(SoakOptions options, string tempDirectory, string logPath)
    {
        _options = options;
        TempDirectory = tempDirectory;
        _databaseIdleTimeout = options.DatabaseIdleTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture);
        _log = new StreamWriter(logPath, append: true) { AutoFlush = true };
    }

    public string TempDirectory { get; }

    public int Port { get; private set; }

    public int HttpPort { get; private set; }

    public int? ProcessId => _process is { HasExited: false } p ? p.Id : null;

    /// <summary>Every server process this run started (their names are in the leftovers they may leave).</summary>
    public List<int> ProcessIds { get; } = [];

    public List<int> EngineHostIds { get; } = [];

    public string ConnectionString(string database = "postgres") =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=false;Timeout=15;Command Timeout=120;Cancellation Timeout=10000";

    public async Task StartAsync(CancellationToken cancel)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])[_options.CliAssembly, "serve", "--db", _options.DataDirectory,
                     "--port", Port.ToString(CultureInfo.InvariantCulture), "--http-port", HttpPort.ToString(CultureInfo.InvariantCulture),
                     "--max-connections", "200", "--database-idle-timeout", _databaseIdleTimeout,
                     "--parent-pid", Environment.ProcessId.ToString(CultureInfo.InvariantCulture)]) // a soak killed does not leave its server running
            start.ArgumentList.Add(argument);
        start.Environment["TMPDIR"] = TempDirectory;
        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        _process = process;
        ProcessIds.Add(process.Id);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                lock (_log)
                    _log.WriteLine(line);
            }
        };
        process.BeginErrorReadLine();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(TimeSpan.FromMinutes(3));
        var ready = await process.StandardOutput.ReadLineAsync(timeout.Token)
            ?? throw new InvalidOperationException($"the server exited ({(process.HasExited ? process.ExitCode : -1)}) before its ready line; see its log");
        using var json = JsonDocument.Parse(ready);
        Port = json.RootElement.GetProperty("port").GetInt32();
        HttpPort = json.RootElement.GetProperty("httpPort").GetInt32();
        _ = DrainStdoutAsync(process);
        lock (_log)
            _log.WriteLine($"--- soak: server pid {process.Id} ready: {ready}");
    }

    private static async Task DrainStdoutAsync(Process process)
    {
        try
        {
            while (await process.StandardOutput.ReadLineAsync() is not null)
            {
            }
        }
        catch (Exception)
        {
            // the process is gone
        }
    }

    /// <summary>The node processes running its engines (the shared engine host, or one per engine with --engine-host process).</summary>
    public List<int> EngineHosts()
    {
        var hosts = new List<int>();
        if (ProcessId is not { } server)
            return hosts;
        try
        {
            foreach (var task in Directory.GetDirectories($"/proc/{server}/task"))
            {
                foreach (var child in File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    var pid = int.Parse(child, CultureInfo.InvariantCulture);
                    var command = File.ReadAllText($"/proc/{pid}/cmdline");
                    if (command.Contains("engine-pool.mjs", StringComparison.Ordinal) || command.Contains("host.mjs", StringComparison.Ordinal))
                        hosts.Add(pid);
                }
            }
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or FormatException)
        {
            // a child ended meanwhile
        }
        foreach (var host in hosts)
        {
            if (!EngineHostIds.Contains(host))
                EngineHostIds.Add(host);
        }
        return hosts;
    }

    /// <summary>SIGKILL of every engine host (the shared host runs every database's engine): the server must start new ones.</summary>
    public List<int> KillEngineHosts()
    {
        var hosts = EngineHosts();
        foreach (var host in hosts)
        {
            try
            {
                Process.GetProcessById(host).Kill();
            }
            catch (Exception error) when (error is ArgumentException or InvalidOperationException)
            {
                // gone already
            }
        }
        return hosts;
    }

    /// <summary>SIGKILL of the server process, as a crash; its engine hosts follow it (they watch their parent).</summary>
    public async Task KillAsync()
    {
        var hosts = EngineHosts();
        lock (_log)
            _log.WriteLine($"--- soak: SIGKILL of server pid {_process?.Id}");
        _process?.Kill();
        if (_process is not null)
            await _process.WaitForExitAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (hosts.Any(IsRunning) && DateTime.UtcNow < deadline)
            await Task.Delay(100);
    }

    /// <summary>SIGTERM, then waits for the exit; false when the server outlived <paramref name="patience"/> (then it is killed).</summary>
    public async Task<bool> StopAsync(TimeSpan patience)
    {
        if (_process is not { HasExited: false } process)
            return true;
        var hosts = EngineHosts();
        Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();
        using var timeout = new CancellationTokenSource(patience);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            return false;
        }
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (hosts.Any(IsRunning) && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        return !hosts.Any(IsRunning);
    }

    public static bool IsRunning(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>The /metrics text, or null when the server does not answer.</summary>
    public async Task<string?> MetricsAsync(CancellationToken cancel)
    {
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            return await http.GetStringAsync($"http://127.0.0.1:{HttpPort}/metrics", cancel);
        }
        catch (Exception error) when (error is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    public void Log(string line)
    {
        lock (_log)
            _log.WriteLine($"--- soak: {line}");
    }
}
