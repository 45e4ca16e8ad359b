using System.Globalization;

namespace ZeroPg.Platform.Linux;

/// <summary>
/// Linux's process table, /proc: the one place ZeroPg reads it. Each call answers null, empty or false where /proc is not
/// there (macOS, Windows) or the process is gone or not this user's to read, so a caller needs no OS test of its own.
/// </summary>
internal static class ProcFs
{
    private const string Root = "/proc";

    /// <summary>True where there is a /proc to read (Linux).</summary>
    public static bool Available { get; } = OperatingSystem.IsLinux() && Directory.Exists("/proc/self");

    /// <summary>The kernel's boot id: it changes at every boot.</summary>
    public static string? BootId { get; } = ReadOrNull($"{Root}/sys/kernel/random/boot_id")?.Trim();

    /// <summary>True while a process <paramref name="pid"/> exists (a zombie too).</summary>
    public static bool Exists(int pid) => Available && Directory.Exists($"{Root}/{pid}");

    /// <summary>Every process id now listed.</summary>
    public static IEnumerable<int> Pids()
    {
        if (!Available)
            yield break;
        foreach (var entry in Directory.EnumerateDirectories(Root))
        {
            if (int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                yield return pid;
        }
    }

    /// <summary>The arguments of <paramref name="pid"/> (cmdline's NUL-separated words; empty for a kernel thread), or null.</summary>
    public static string[]? CommandLine(int pid) => ReadOrNull($"{Root}/{pid}/cmdline")?.TrimEnd('\0').Split('\0');

    /// <summary>
    /// The fields of /proc/PID/stat after the command name (which may hold spaces and parentheses): [0] is the state (field 3),
    /// [1] the parent's pid, [19] the start time in clock ticks after boot (field 22). Null when the process is gone.
    /// </summary>
    public static string[]? StatFields(int pid)
        => ReadOrNull($"{Root}/{pid}/stat") is { } stat ? stat[(stat.LastIndexOf(')') + 2)..].Split(' ') : null;

    /// <summary>The value of a line "NAME:\tVALUE" of /proc/PID/status (PID "self" for this process), or null.</summary>
    public static string? StatusField(string pid, string name)
    {
        try
        {
            foreach (var line in File.ReadLines($"{Root}/{pid}/status"))
            {
                if (line.Length > name.Length && line.StartsWith(name, StringComparison.Ordinal) && line[name.Length] == ':')
                    return line[(name.Length + 1)..].Trim();
            }
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
        }
        return null;
    }

    /// <summary>The soft limit of a line of /proc/self/limits ("Max open files"), or null when unknown or unlimited.</summary>
    public static long? SoftLimit(string name)
    {
        try
        {
            foreach (var line in File.ReadLines($"{Root}/self/limits"))
            {
                // "Max open files            1048576              1048576              files"
                if (!line.StartsWith(name, StringComparison.Ordinal))
                    continue;
                var soft = line[name.Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                return long.TryParse(soft, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) ? limit : null;
            }
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
        }
        return null;
    }

    /// <summary>How many descriptors this process has open (0 where that cannot be read).</summary>
    public static int OpenDescriptorCount()
    {
        try
        {
            return Available ? Directory.EnumerateFileSystemEntries($"{Root}/self/fd").Count() : 0;
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    /// <summary>The path of descriptor <paramref name="fd"/> of this process, to open it again (a pipe gets a new open file).</summary>
    public static string OwnDescriptorPath(nint fd) => $"{Root}/self/fd/{fd}";

    /// <summary>What the descriptors of <paramref name="pid"/> point at (their link targets); throws when the process is not readable.</summary>
    public static IEnumerable<string> OpenFileTargets(int pid)
    {
        foreach (var fd in Directory.EnumerateFileSystemEntries($"{Root}/{pid}/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(fd).LinkTarget;
            }
            catch (IOException)
            {
                continue; // closed meanwhile
            }
            if (target is not null)
                yield return target;
        }
    }

    /// <summary>The thread ids of <paramref name="pid"/>; empty when it is gone.</summary>
    public static IEnumerable<int> Threads(int pid)
    {
        string[] tasks;
        try
        {
            tasks = Directory.GetDirectories($"{Root}/{pid}/task");
        }
        catch (Exception error) when (error is DirectoryNotFoundException or IOException or UnauthorizedAccessException)
        {
            return [];
        }
        return tasks.Select(t => int.TryParse(Path.GetFileName(t), NumberStyles.None, CultureInfo.InvariantCulture, out var tid) ? tid : -1).Where(t => t > 0);
    }

    /// <summary>A thread's name (comm), or "" when it ended.</summary>
    public static string ThreadName(int pid, int tid) => ReadOrNull($"{Root}/{pid}/task/{tid}/comm")?.TrimEnd('\n') ?? "";

    private static string? ReadOrNull(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
