namespace ZeroPg.Hosting;

/// <summary>Resident memory of a process, from /proc (Linux); null elsewhere or when it is gone.</summary>
internal static class ProcessMemory
{
    public static long? ResidentBytes(int pid)
    {
        // "VmRSS:	  401234 kB"
        var value = Platform.Linux.ProcFs.StatusField(pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "VmRSS");
        return value is not null && long.TryParse(value.Split(' ')[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var kb)
            ? kb * 1024
            : null;
    }
}
