using System.Diagnostics;

namespace ZeroPg.Engine;

/// <summary>An engine in a node process of its own (host.mjs), its frames over the process's stdin and stdout: the default.</summary>
internal sealed class ChildProcessChannel(Process process) : IEngineChannel
{
    /// <summary>Starts host.mjs in a node process of its own with these start options (JSON).</summary>
    public static ChildProcessChannel Start(EngineLaunchOptions options, string startOptions)
    {
        var startInfo = new ProcessStartInfo(options.NodePath)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(options.HostScriptPath)!,
        };
        startInfo.ArgumentList.Add(options.HostScriptPath);
        startInfo.ArgumentList.Add(startOptions);
        foreach (var (name, value) in options.Environment)
            startInfo.Environment[name] = value;
        var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"could not start {options.NodePath}");
        if (options.HostCpus is not null)
            EngineHostCores.BeginStart(process.Id); // any CPU until its engine has started (it inherited the server's, maybe placed)
        return new ChildProcessChannel(process);
    }

    public Stream Requests { get; } = process.StandardInput.BaseStream;

    public Stream Replies { get; } = process.StandardOutput.BaseStream;

    public int ProcessId { get; } = process.Id;

    public bool HasExited => process.HasExited;

    public long? MemoryBytes => Hosting.ProcessMemory.ResidentBytes(ProcessId);

    public void BeginStderr(Action<string> onLine)
    {
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
                onLine(e.Data);
        };
        process.BeginErrorReadLine();
    }

    // Asked after the engine was disposed too (a sleep whose engine died says why its data is gone): the process's state is kept
    // at Dispose, since a disposed Process answers no more questions (InvalidOperationException).
    private string? _endState;

    public string Describe() => $"engine host pid {ProcessId} ({_endState ?? State()})";

    private string State() => process.HasExited ? $"exit code {process.ExitCode}" : "still running";

    public void CloseRequests() => Requests.Close();

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    public void Kill()
    {
        try
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
        }
        catch (Exception error) when (error is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Already gone or not killable: nothing more to do.
        }
    }

    public void Dispose()
    {
        _endState ??= State();
        process.Dispose();
    }
}
