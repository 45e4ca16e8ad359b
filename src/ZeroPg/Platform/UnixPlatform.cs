using System.Runtime.InteropServices;

namespace ZeroPg.Platform;

/// <summary>What Linux and macOS share: POSIX calls whose constants are the same on both (O_RDONLY 0, SIGTERM 15).</summary>
internal abstract partial class UnixPlatform : HostPlatform
{
    private const int ReadOnly = 0; // O_RDONLY: 0 on every Unix; a directory opens read-only without O_DIRECTORY

    // A new file's name is durable once its directory is synced; .NET opens no handle on a directory.
    public override void SyncDirectory(string path)
    {
        var fd = Open(path, ReadOnly);
        if (fd < 0)
            throw new IOException($"could not open directory {path} to sync it (errno {Marshal.GetLastPInvokeError()})");
        try
        {
            if (Fsync(fd) != 0)
                throw new IOException($"could not sync directory {path} (errno {Marshal.GetLastPInvokeError()})");
        }
        finally
        {
            _ = Close(fd);
        }
    }

    public override bool Signal(int pid, StopSignal signal) => pid > 0 && Kill(pid, (int)signal) == 0;

    private const UnixFileMode Execute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // chosen only off Windows (HostPlatform.Current)
    public override bool IsExecutable(string path) => (File.GetUnixFileMode(path) & Execute) != 0;

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public override bool MakeExecutable(string path)
    {
        try
        {
            File.SetUnixFileMode(path, File.GetUnixFileMode(path) | Execute);
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    private const int NoSignal = 0; // kill(pid, 0): the existence and permission checks only, on every Unix
    private const int NotPermitted = 1; // EPERM: 1 on every Unix

    /// <summary>kill(pid, 0): it exists when that succeeds, or fails only for want of permission.</summary>
    public override bool ProcessExists(int pid) => pid > 0 && (Kill(pid, NoSignal) == 0 || Marshal.GetLastPInvokeError() == NotPermitted);

    public override async Task GiveToUserAsync(string user, IReadOnlyList<string> paths, bool recursive, CancellationToken cancellationToken)
    {
        // chown(1) resolves the user and walks the trees; .NET has neither (a file's owner is not settable through it).
        var start = new System.Diagnostics.ProcessStartInfo("chown") { UseShellExecute = false, RedirectStandardError = true };
        if (recursive)
            start.ArgumentList.Add("-R");
        start.ArgumentList.Add(user);
        foreach (var path in paths)
            start.ArgumentList.Add(path);
        using var chown = System.Diagnostics.Process.Start(start) ?? throw new InvalidOperationException("could not start chown");
        var error = chown.StandardError.ReadToEndAsync(cancellationToken);
        await chown.WaitForExitAsync(cancellationToken);
        if (chown.ExitCode != 0)
            throw new InvalidOperationException($"chown failed (exit {chown.ExitCode}): {(await error).Trim()}");
    }

    /// <summary>$SHELL would be the user's login shell (fish, zsh); `--run` promises POSIX sh, as `docker run sh -c` and npm scripts do.</summary>
    public override ShellCommand Shell(string commandLine) => new("/bin/sh", ["-c", commandLine]);

    public override CancelEndpoint NewCancelEndpoint(string tempDirectory, string uniqueName)
    {
        var path = System.IO.Path.Combine(tempDirectory, uniqueName + ".sock");
        return UnixSocketCancelEndpoint.Fits(path, Os) ? new UnixSocketCancelEndpoint(path) : new LoopbackCancelEndpoint();
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}

internal sealed class LinuxPlatform : UnixPlatform
{
    public override OsFamily Os => OsFamily.Linux;

    protected override string RidOs => "linux";

    public override bool HasSharedEngineHost => true;

    /// <summary>npm's Linux builds are glibc builds: on musl (Alpine) they do not run, so none is carried there.</summary>
    public override string? NodeRuntimeFolder(System.Runtime.InteropServices.Architecture architecture)
        => File.Exists("/etc/alpine-release") ? null : base.NodeRuntimeFolder(architecture);

    public override bool ProcessExists(int pid) => Linux.ProcFs.Available ? Linux.ProcFs.Exists(pid) : base.ProcessExists(pid);

    public override bool TellsEveryProcess => Linux.ProcFs.Available;

    public override long? OpenFilesLimit() => Linux.ProcFs.SoftLimit("Max open files");

    public override int OpenDescriptorCount() => Linux.ProcFs.OpenDescriptorCount();

    /// <summary>
    /// .NET leaves a SIGINT that was ignored at its start ignored (a script's `zeropg serve &amp;`, `nohup`): such a server outlived
    /// `kill -INT`. Postgres sets its own handler whatever it inherited; so does this, before .NET first looks at the signal.
    /// </summary>
    public override void ReclaimIgnoredSigint()
    {
        if (SigintIgnored())
            _ = Linux.LinuxLibc.Signal(Linux.LinuxLibc.SIGINT, Linux.LinuxLibc.SIG_DFL);
    }

    /// <summary>True when this process ignores SIGINT (/proc/self/status's SigIgn mask); false where that cannot be read.</summary>
    private static bool SigintIgnored()
    {
        try
        {
            return Linux.ProcFs.StatusField("self", "SigIgn") is { } mask && (Convert.ToUInt64(mask, 16) & (1UL << (Linux.LinuxLibc.SIGINT - 1))) != 0;
        }
        catch (FormatException)
        {
            return false; // leave the signal as it is
        }
    }

    public override MachineLimits Limits(string root) => new Linux.LinuxMachineLimits(root);

    public override string NodeInstallHint(int minimumMajor)
        => $"install Node.js {minimumMajor}+ (your distribution's nodejs package if it is {minimumMajor} or newer, or a build from nodejs.org)";

    public override IReadOnlyList<string>? CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").TrimEnd('\0').Split('\0');
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}

internal sealed class MacPlatform : UnixPlatform
{
    public override OsFamily Os => OsFamily.MacOS;

    protected override string RidOs => "osx";

    /// <summary>Apple silicon above all: npm has no Node for darwin-arm64 newer than 18, so zeropg carries none there.</summary>
    public override string NodeInstallHint(int minimumMajor)
        => $"zeropg carries no Node.js for Apple silicon Macs; install Node.js {minimumMajor}+: `brew install node` (Homebrew) or the macOS installer from nodejs.org";
}
