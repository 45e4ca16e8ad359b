using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace ZeroPg.Cli;

/// <summary>--run and --parent-pid: what, besides a signal, ends the server's run.</summary>
internal sealed record SidecarOptions(string? RunCommand, int? ParentPid);

internal static partial class Sidecar
{
    /// <summary>Waits for a signal, the --run command's exit or the parent's death; returns the exit code to use.</summary>
    public static async Task<int> RunUntilStoppedAsync(ZeroPgServer server, SidecarOptions options, ILogger logger, CancellationToken stop)
    {
        using var done = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var waits = new List<Task<int>> { WaitForever(done.Token) };
        if (options.ParentPid is { } parent)
            waits.Add(WatchParentAsync(parent, logger, done.Token));
        if (options.RunCommand is { Length: > 0 } command)
            waits.Add(RunCommandAsync(server, command, logger, done.Token));
        var first = await Task.WhenAny(waits);
        done.Cancel();
        return await first;
    }

    private static async Task<int> WaitForever(CancellationToken token)
    {
        await Task.Delay(Timeout.Infinite, token).ContinueWith(_ => { }, TaskScheduler.Default);
        return 0;
    }

    private static async Task<int> WatchParentAsync(int pid, ILogger logger, CancellationToken token)
    {
        // Polling: a process cannot wait on one it did not start.
        while (!token.IsCancellationRequested)
        {
            if (!IsAlive(pid))
            {
                Log.ParentExited(logger, pid);
                return 0;
            }
            await Task.Delay(250, token).ContinueWith(_ => { }, TaskScheduler.Default);
        }
        return 0;
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static async Task<int> RunCommandAsync(ZeroPgServer server, string command, ILogger logger, CancellationToken token)
    {
        var shell = ZeroPg.Platform.HostPlatform.Current.Shell(command);
        var start = shell.StartInfo();
        start.Environment["DATABASE_URL"] = server.Url;
        start.Environment["ZEROPG_CONNECTION_STRING"] = server.GetConnectionString();
        using var child = Process.Start(start) ?? throw new InvalidOperationException($"could not start {shell.FileName}");
        try
        {
            await child.WaitForExitAsync(token);
        }
        catch (OperationCanceledException)
        {
            // The server is stopping (signal, parent gone): the command goes too.
            child.Kill(entireProcessTree: true);
            await child.WaitForExitAsync(CancellationToken.None);
            return 143;
        }
        Log.CommandExited(logger, child.ExitCode);
        return child.ExitCode;
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "parent process {Pid} exited")]
        public static partial void ParentExited(ILogger logger, int pid);

        [LoggerMessage(Level = LogLevel.Information, Message = "--run command exited with code {Code}")]
        public static partial void CommandExited(ILogger logger, int code);
    }
}
