using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace ZeroPg.Tests.Cli;

/// <summary>`dotnet ZeroPg.Cli.dll serve ...` as a child process, the way a sidecar user runs it.</summary>
public sealed class CliProcess : IAsyncDisposable
{
    private readonly StringBuilder _stderr = new();

    /// <summary>Servers started and not disposed: killed when the test host ends, even by an unhandled exception, which runs no test's disposal.</summary>
    private static readonly HashSet<Process> Live = [];

    static CliProcess()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillLive();
        AppDomain.CurrentDomain.UnhandledException += (_, _) => KillLive();
    }

    private CliProcess(Process process)
    {
        Process = process;
        lock (Live)
            Live.Add(process);
    }

    private static void KillLive()
    {
        lock (Live)
        {
            foreach (var process in Live)
            {
                try
                {
                    process.Kill(entireProcessTree: true);
                }
                catch (Exception error) when (error is InvalidOperationException or System.ComponentModel.Win32Exception)
                {
                    // Exited already.
                }
            }
            Live.Clear();
        }
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

    public static CliProcess Start(params string[] arguments) => Start(new Dictionary<string, string>(), arguments);

    public static CliProcess Start(IReadOnlyDictionary<string, string> environment, params string[] arguments) => Start(environment, null, null, arguments);

    /// <param name="shell">When set, bash runs this first, then execs dotnet (so the pid is the server's): `ulimit -n 400`.</param>
    /// <param name="executable">A native build of the CLI to run instead of `dotnet ZeroPg.Cli.dll`.</param>
    private static CliProcess Start(IReadOnlyDictionary<string, string> environment, string? shell, string? executable, string[] arguments)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "ZeroPg.Cli.dll");
        var start = new ProcessStartInfo(executable ?? (shell is null ? "dotnet" : "bash"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment)
            start.Environment[name] = value;
        if (shell is not null)
        {
            foreach (var word in (string[])["-c", $"{shell} && exec dotnet \"$@\"", "bash"])
                start.ArgumentList.Add(word);
        }
        if (executable is null)
            start.ArgumentList.Add(dll);
        start.ArgumentList.Add("serve");
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        var cli = new CliProcess(Process.Start(start)!);
        cli.Process.ErrorDataReceived += (_, e) =>
        {
            lock (cli._stderr)
                cli._stderr.AppendLine(e.Data);
        };
        cli.Process.BeginErrorReadLine();
        return cli;
    }

    /// <summary>Starts the CLI and waits for its ready line.</summary>
    public static Task<CliProcess> StartReadyAsync(params string[] arguments) => StartReadyAsync(new Dictionary<string, string>(), arguments);

    public static Task<CliProcess> StartReadyAsync(IReadOnlyDictionary<string, string> environment, params string[] arguments)
        => StartReadyAsync(environment, null, null, arguments);

    /// <summary>Starts a native build of the CLI (<paramref name="executable"/>) and waits for its ready line.</summary>
    public static Task<CliProcess> StartExecutableReadyAsync(string executable, string[] arguments)
        => StartReadyAsync(new Dictionary<string, string>(), null, executable, arguments);

    /// <summary>Starts a published zeropg (<paramref name="executable"/>) with <paramref name="environment"/> added and waits for its ready line.</summary>
    public static Task<CliProcess> StartExecutableReadyAsync(string executable, IReadOnlyDictionary<string, string> environment, string[] arguments)
        => StartReadyAsync(environment, null, executable, arguments);

    /// <summary>Starts the CLI under a lowered file-descriptor limit (`ulimit -n`) and waits for its ready line.</summary>
    public static Task<CliProcess> StartReadyWithDescriptorLimitAsync(int descriptorLimit, params string[] arguments)
        => StartReadyAsync(new Dictionary<string, string>(), $"ulimit -n {descriptorLimit}", null, arguments);

    /// <summary>Starts the CLI with SIGINT ignored, as a script's background job or nohup starts it, and waits for its ready line.</summary>
    public static Task<CliProcess> StartReadyWithSigintIgnoredAsync(params string[] arguments)
        => StartReadyAsync(new Dictionary<string, string>(), "trap '' INT", null, arguments);

    private static async Task<CliProcess> StartReadyAsync(IReadOnlyDictionary<string, string> environment, string? shell, string? executable, string[] arguments)
    {
        var cli = Start(environment, shell, executable, arguments);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            var line = await cli.Process.StandardOutput.ReadLineAsync(timeout.Token);
            if (line is null)
            {
                // WaitForExitAsync also waits for the stderr reader to reach its end: the last lines say why.
                await cli.Process.WaitForExitAsync(timeout.Token);
                throw new InvalidOperationException($"the CLI exited ({cli.Process.ExitCode}) before it was ready: {cli.Stderr}");
            }
            cli.Ready = JsonDocument.Parse(line).RootElement.Clone();
            return cli;
        }
        catch
        {
            // No caller holds it yet to dispose it: a server not ready in time (a loaded machine) or a first line that is not the
            // ready line would outlive the test run (a `serve --split-cores on` stayed alive after the suite).
            await cli.DisposeAsync();
            throw;
        }
    }

    /// <summary>The Node.js engine host started by the CLI (its child process: the shared host, or the postgres database's engine process).</summary>
    public int EngineProcessId()
    {
        foreach (var pid in ChildrenOf(Process.Id))
        {
            // The shared engine host (engine-pool.mjs) runs every engine; with --engine-host process, host.mjs runs one.
            if (File.ReadAllText($"/proc/{pid}/cmdline") is var command && (command.Contains("engine-pool.mjs", StringComparison.Ordinal) || command.Contains("host.mjs", StringComparison.Ordinal)))
                return pid;
        }
        throw new InvalidOperationException("no engine host child process found");
    }

    /// <summary>The child processes of <paramref name="pid"/>, from each of its threads' /proc children list.</summary>
    public static IEnumerable<int> ChildrenOf(int pid)
    {
        foreach (var task in Directory.GetDirectories($"/proc/{pid}/task"))
        {
            foreach (var child in File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                yield return int.Parse(child, System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    /// <summary>True while the process exists and is not a zombie waiting to be reaped.</summary>
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

    public async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        await Process.WaitForExitAsync().WaitAsync(timeout);
        return Process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
                await Process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException)
        {
            // It exited between the check and the kill.
        }
        lock (Live)
            Live.Remove(Process);
        Process.Dispose();
    }
}
