using System.Diagnostics;
using System.Text;
using System.Text.Json;
using ZeroPg.Tests.Cli;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Storage.Backup;

/// <summary>The zeropg CLI as a child process with its own environment (S3 credentials), e.g. `serve --backup ...` or `backup list ...`.</summary>
public sealed class ZeroPgCli : IAsyncDisposable
{
    private readonly StringBuilder _stderr = new();

    private ZeroPgCli(Process process)
    {
        Process = process;
    }

    public Process Process { get; }

    public JsonElement Ready { get; private set; }

    public string Stderr
    {
        get
        {
            lock (_stderr)
                return _stderr.ToString();
        }
    }

    public string ConnectionString => $"Host=127.0.0.1;Port={Ready.GetProperty("port").GetInt32()};Username=postgres;Pooling=false;Timeout=30";

    public static ZeroPgCli Start(IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ZeroPg.Cli.dll"));
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        var cli = new ZeroPgCli(Process.Start(start)!);
        cli.Process.ErrorDataReceived += (_, e) =>
        {
            lock (cli._stderr)
                cli._stderr.AppendLine(e.Data);
        };
        cli.Process.BeginErrorReadLine();
        return cli;
    }

    /// <summary>`serve ...` until its ready line.</summary>
    public static async Task<ZeroPgCli> ServeAsync(IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var cli = Start(environment, ["serve", "--port", "0", "--http-port", "0", .. arguments]);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var line = await cli.Process.StandardOutput.ReadLineAsync(timeout.Token);
        if (line is null)
        {
            await cli.Process.WaitForExitAsync(timeout.Token);
            throw new InvalidOperationException($"the CLI exited ({cli.Process.ExitCode}) before it was ready: {cli.Stderr}");
        }
        cli.Ready = JsonDocument.Parse(line).RootElement.Clone();
        return cli;
    }

    /// <summary>Runs a command to its end: exit code, stdout, stderr.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        await using var cli = Start(environment, arguments);
        var stdout = await cli.Process.StandardOutput.ReadToEndAsync();
        await cli.Process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
        return (cli.Process.ExitCode, stdout, cli.Stderr);
    }

    public string HttpUrl(string path) => $"http://127.0.0.1:{Ready.GetProperty("httpPort").GetInt32()}{path}";

    /// <summary>Waits until /readyz answers 200 (the backup is up to date).</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient();
        await Eventually.ValueAsync(async () =>
            {
                using var response = await http.GetAsync(HttpUrl("/readyz"));
                return (Ok: response.IsSuccessStatusCode, Status: (int)response.StatusCode, Body: await response.Content.ReadAsStringAsync());
            },
            r => r.Ok, r => $"/readyz stayed {r.Status}: {r.Body}", timeout, TimeSpan.FromMilliseconds(100));
    }

    public Task SignalAsync(string signal) => Process.Start("kill", [$"-{signal}", Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExitAsync();

    /// <summary>The engine host (the CLI's node child), found through /proc.</summary>
    public int EngineProcessId()
    {
        foreach (var task in Directory.GetDirectories($"/proc/{Process.Id}/task"))
        {
            foreach (var child in File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var pid = int.Parse(child, System.Globalization.CultureInfo.InvariantCulture);
                // The shared engine host (engine-pool.mjs) runs every engine; with --engine-host process, host.mjs runs one.
                if (File.ReadAllText($"/proc/{pid}/cmdline") is var command && (command.Contains("engine-pool.mjs", StringComparison.Ordinal) || command.Contains("host.mjs", StringComparison.Ordinal)))
                    return pid;
            }
        }
        throw new InvalidOperationException("no engine host child process found");
    }

    /// <summary>SIGKILL of the server only (as a crash would); waits until its engine host has exited too.</summary>
    public async Task KillAsync()
    {
        var engine = EngineProcessId();
        Process.Kill();
        await Process.WaitForExitAsync();
        await Eventually.WaitUntilAsync(() => !CliProcess.IsRunning(engine), $"the engine host {engine} gone after its server was killed", TimeSpan.FromSeconds(30));
    }

    public async ValueTask DisposeAsync()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
            await Process.WaitForExitAsync();
        }
        Process.Dispose();
    }
}
