namespace ZeroPg.Hosting;

/// <summary>
/// What a ZeroPg process killed outright (SIGKILL, a test runner's timeout, the OOM killer) leaves in /dev/shm and the
/// temporary directory, removed by the next process once its first engine is ready. Every such name carries its
/// creator's PID: <c>zeropg-KIND-PID-...</c>. Two kinds of leftovers:
/// <list type="bullet">
/// <item>the files of an engine's start (<c>doorbell</c>, the request and reply FIFOs <c>engine</c>, the cancel socket
/// <c>cancel</c>): their names go once the engine host has opened them, so only a process killed within its start leaves
/// them. Removed when the PID no longer runs and the file is older than <see cref="StaleAfter"/>, since a server in another
/// PID namespace sharing the directory may have just made one;</item>
/// <item>folders that live as long as their process (<see cref="OwnedTempFolder"/>: <c>databases</c>, <c>snapshots</c>,
/// <c>verify</c>, which may hold large dumps and restored clusters; <c>native</c>, the socket and memory:// cluster of
/// <c>--engine postgres</c>, whose postmaster is stopped first): removed when the PID no longer runs and no process holds
/// the folder's lock. A folder without an owner file (an older version's) is removed when older than
/// <see cref="StaleAfter"/>.</item>
/// </list>
/// And the .NET runtime's own of a ZeroPg server SIGKILLed: its diagnostics socket <c>dotnet-diagnostic-PID-KEY-socket</c>
/// and debugger pipes <c>clr-debug-pipe-PID-KEY-in/out</c>, which the runtime removes only at a normal exit (the soak found
/// three per server kill piling up in the temporary directory). Their names do not say which program made them: those
/// of a PID that no longer runs, older than <see cref="StaleAfter"/>, are removed whoever made them (a dead process's
/// diagnostics endpoint serves nobody).
/// Linux only (/proc); elsewhere nothing is removed.
/// </summary>
internal static class KilledProcessLeftovers
{
    /// <summary>How old a start's file must be to be removed: an engine host opens its files within seconds.</summary>
    internal static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(1);

    // The kinds: each creator names its file or folder with Name(kind), so the sweep's parse and the names agree.
    public const string Doorbell = "doorbell", EngineFifos = "engine", CancelSocket = "cancel";
    public const string Databases = "databases", Snapshots = "snapshots", BackupVerify = "verify", NativePostgres = "native";

    private static readonly string[] s_startFiles = [Doorbell, EngineFifos, CancelSocket];
    private static readonly string[] s_ownedFolders = [Databases, Snapshots, BackupVerify, NativePostgres];
    private static int s_swept;

    /// <summary>A new name of this process for <paramref name="kind"/>: <c>zeropg-KIND-PID-GUID</c>.</summary>
    public static string Name(string kind) => $"zeropg-{kind}-{Environment.ProcessId}-{Guid.NewGuid():N}";

    /// <summary>
    /// Sweeps /dev/shm and the temporary directory once per process, on a pool thread (a start does not wait for it), and
    /// once more when a start's file made just before this process began is old enough (<see cref="SweepTwiceAsync"/>).
    /// </summary>
    public static void SweepOnce()
    {
        if (Interlocked.Exchange(ref s_swept, 1) != 0)
            return;
        _ = SweepTwiceAsync(["/dev/shm", Path.GetTempPath()], StaleAfter + TimeSpan.FromSeconds(5));
    }

    /// <summary>
    /// A sweep now and one after <paramref name="again"/>: a process killed within its engine's start moments before this one
    /// began (the soak's server kill, restarted at once) left files too young for the first sweep, which nothing else
    /// would remove until the next process starts. Returns how many both removed.
    /// </summary>
    internal static async Task<int> SweepTwiceAsync(string[] directories, TimeSpan again)
    {
        await Task.Yield(); // on a pool thread from here: the caller's start goes on
        var removed = Sweep(directories, DateTime.UtcNow);
        await Task.Delay(again);
        return removed + Sweep(directories, DateTime.UtcNow);
    }

    /// <summary>Removes the leftovers of processes that are gone in <paramref name="directories"/>; returns how many.</summary>
    internal static int Sweep(IEnumerable<string> directories, DateTime now)
    {
        if (!Platform.HostPlatform.Current.TellsEveryProcess)
            return 0;
        var removed = 0;
        foreach (var directory in directories)
        {
            try
            {
                if (!Directory.Exists(directory))
                    continue;
                foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos("zeropg-*"))
                {
                    try
                    {
                        if (TryParse(entry.Name, out var kind, out var pid) && IsLeftover(entry, kind, pid, now))
                        {
                            Remove(entry, kind);
                            removed++;
                        }
                    }
                    catch (Exception error) when (error is IOException or UnauthorizedAccessException)
                    {
                        // another user's, or gone meanwhile
                    }
                }
                removed += SweepRuntimeFiles(directory, now);
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException)
            {
                // an unreadable directory: nothing to tidy
            }
        }
        return removed;
    }

    /// <summary>The .NET runtime's diagnostics socket and debugger pipes of processes that are gone (see the class summary).</summary>
    private static int SweepRuntimeFiles(string directory, DateTime now)
    {
        var removed = 0;
        foreach (var prefix in s_runtimePrefixes)
        {
            foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos(prefix + "*"))
            {
                try
                {
                    var pidText = entry.Name[prefix.Length..].Split('-', 2)[0];
                    if (entry is FileInfo && entry.LinkTarget is null
                        && int.TryParse(pidText, System.Globalization.NumberStyles.None, null, out var pid) && pid > 0
                        && !Platform.HostPlatform.Current.ProcessExists(pid) && now - entry.LastWriteTimeUtc >= StaleAfter)
                    {
                        File.Delete(entry.FullName);
                        removed++;
                    }
                }
                catch (Exception error) when (error is IOException or UnauthorizedAccessException)
                {
                    // another user's, or gone meanwhile
                }
            }
        }
        return removed;
    }

    private static readonly string[] s_runtimePrefixes = ["dotnet-diagnostic-", "clr-debug-pipe-"];

    private static bool IsLeftover(FileSystemInfo entry, string kind, int pid, DateTime now)
    {
        // A link is none of ours (ZeroPg makes none): never followed, never removed.
        if (entry.LinkTarget is not null || Platform.HostPlatform.Current.ProcessExists(pid))
            return false;
        var old = now - entry.LastWriteTimeUtc >= StaleAfter;
        if (s_startFiles.Contains(kind))
            return entry is FileInfo && old;
        return entry is DirectoryInfo && (OwnedTempFolder.IsAbandoned(entry.FullName) ?? old); // no owner file: an older version's
    }

    /// <summary>zeropg-KIND-PID-REST, with KIND one of the kinds above and PID digits.</summary>
    private static bool TryParse(string name, out string kind, out int pid)
    {
        kind = "";
        pid = 0;
        var parts = name.Split('-', 4);
        if (parts.Length < 4 || !int.TryParse(parts[2], System.Globalization.NumberStyles.None, null, out pid) || pid <= 0)
            return false;
        kind = parts[1];
        return s_startFiles.Contains(kind) || s_ownedFolders.Contains(kind);
    }

    private static void Remove(FileSystemInfo entry, string kind)
    {
        if (entry is DirectoryInfo folder)
        {
            if (kind == NativePostgres)
                Engine.Native.NativeCluster.StopAbandoned(folder.FullName);
            folder.Delete(recursive: true);
        }
        else
            File.Delete(entry.FullName); // a file, a FIFO or a socket
    }
}
