namespace ZeroPg.Storage.Backup;

/// <summary>
/// Names a process beyond its pid: the kernel's boot id and the tick the process started at (Linux, /proc). A lease holder on
/// this machine whose pid still has the name it wrote is that very process, alive; a pid alone may have been reused.
/// </summary>
internal static class HolderProcess
{
    /// <summary>This process's name, or null where /proc cannot tell it.</summary>
    public static string? Current { get; } = NameOf(Environment.ProcessId);

    /// <summary>The name of the process that now has <paramref name="pid"/>, or null (none, or not Linux).</summary>
    public static string? NameOf(int pid)
    {
        try
        {
            var boot = File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // After the command name (which may hold spaces and parentheses): state is field 3, starttime field 22.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields.Length > 19 && fields[0] is not ("Z" or "X" or "x") ? $"{boot}/{fields[19]}" : null;
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }
}
