using System.Diagnostics;
using System.Text;

namespace ZeroPg.Platform;

/// <summary>
/// Windows: no Unix sockets for Node's <c>listen(path)</c> (it makes a named pipe), so the cancel channel is a loopback port
/// with a secret; no SIGTERM, so a stop request ends the process; cmd.exe for `--run`; NTFS journals a directory's entries,
/// so there is nothing to sync.
/// </summary>
internal sealed class WindowsPlatform : HostPlatform
{
    public override OsFamily Os => OsFamily.Windows;

    protected override string RidOs => "win";

    public override string[] ExecutableNames(string name) => Path.HasExtension(name) ? [name] : [name + ".exe", name];

    public override void SyncDirectory(string path)
    {
    }

    /// <summary>
    /// Windows has no signal a console process can send another console's process: every stop request ends the process
    /// (its engines see their parent gone and exit; a data directory then recovers at its next start, as after a crash).
    /// </summary>
    public override bool Signal(int pid, StopSignal signal)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill(entireProcessTree: true);
            return true;
        }
        catch (Exception error) when (error is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    /// <summary>
    /// cmd.exe /d /s /c "LINE": /s makes cmd strip exactly the outer quotes and run LINE as typed, whatever quotes it holds
    /// (cmd's own rules, not the C runtime's, parse it: it is passed as one raw string, not quoted again by .NET).
    /// </summary>
    public override ShellCommand Shell(string commandLine)
    {
        var shell = Environment.GetEnvironmentVariable("ComSpec") is { Length: > 0 } comSpec ? comSpec : "cmd.exe";
        return new ShellCommand(shell, ["/d", "/s", "/c", commandLine], RawArguments: CmdArguments(commandLine));
    }

    internal static string CmdArguments(string commandLine) => new StringBuilder("/d /s /c \"").Append(commandLine).Append('"').ToString();

    public override string NodeInstallHint(int minimumMajor)
        => $"install Node.js {minimumMajor}+: `winget install OpenJS.NodeJS.LTS` or the Windows installer from nodejs.org";

    public override CancelEndpoint NewCancelEndpoint(string tempDirectory, string uniqueName) => new LoopbackCancelEndpoint();

    public override bool ProcessExists(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception error) when (error is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
