namespace ZeroPg.Storage.Backup;

/// <summary>
/// Names a process beyond its pid: the kernel's boot id and the tick the process started at (Linux, /proc). A lease holder on
/// this machine whose pid still has the name it wrote is that very process, alive; a pid alone may have been reused.
/// </summary>
internal static class HolderProcess
{
    private static readonly string? s_bootId = Platform.Linux.ProcFs.BootId;

    /// <summary>This process's name, or null where /proc cannot tell it.</summary>
    public static string? Current { get; } = NameOf(Environment.ProcessId);

    /// <summary>The name of the process that now has <paramref name="pid"/>, or null (none, or not Linux).</summary>
    public static string? NameOf(int pid) => s_bootId is not null && StartTick(pid) is { } tick ? $"{s_bootId}/{tick}" : null;

    /// <summary>
    /// When the process with <paramref name="pid"/> started (clock ticks after boot), or null when there is none: also for a
    /// zombie, a killed process not reaped yet, which no longer runs.
    /// </summary>
    public static string? StartTick(int pid)
    {
        if (Platform.Linux.ProcFs.StatFields(pid) is not { } fields)
            return null;
        return fields.Length > 19 && fields[0] is not ("Z" or "X" or "x") ? fields[19] : null;
    }
}
