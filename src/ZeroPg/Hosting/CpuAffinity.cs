using ZeroPg.Platform.Linux;

namespace ZeroPg.Hosting;

/// <summary>
/// Which CPUs a thread may run on (Linux's sched_getaffinity and sched_setaffinity). A thread made later inherits the mask
/// of the thread that makes it, and a process the mask of the thread that starts it: placing every thread of a process places
/// it for good.
/// </summary>
internal static class CpuAffinity
{
    private const int MaskWords = 16; // 1,024 CPUs, glibc's cpu_set_t

    /// <summary>The CPUs thread <paramref name="tid"/> (0: the calling one) may run on, in order; empty where it is gone or this cannot be read (not Linux).</summary>
    public static int[] Allowed(int tid = 0) => OperatingSystem.IsLinux() && Get(tid) is { } mask ? Cpus(mask) : [];

    /// <summary>
    /// Places every thread of process <paramref name="pid"/> (but those whose name starts with <paramref name="exceptNamed"/>) on
    /// <paramref name="cpus"/> (null: any CPU the system gives it); the threads it makes later inherit that
    /// from the thread that makes them. A thread made while the threads are listed is caught by the next listing.
    /// </summary>
    public static void PlaceProcess(int pid, IReadOnlyList<int>? cpus, string? exceptNamed = null)
    {
        if (!OperatingSystem.IsLinux())
            return;
        var mask = cpus is null ? AnyCpu() : Mask(cpus);
        var placed = new HashSet<int>();
        for (var pass = 0; pass < 3; pass++)
        {
            var found = false;
            foreach (var tid in ProcFs.Threads(pid))
            {
                if (placed.Add(tid))
                {
                    found = true;
                    if (exceptNamed is null || !ProcFs.ThreadName(pid, tid).StartsWith(exceptNamed, StringComparison.Ordinal))
                        Set(tid, mask); // a thread that ended meanwhile is simply gone
                }
            }
            if (!found)
                return;
        }
    }

    private static ulong[]? Get(int tid)
    {
        var mask = new ulong[MaskWords];
        return LinuxLibc.SchedGetAffinity(tid, MaskWords * sizeof(ulong), mask) == 0 ? mask : null;
    }

    private static bool Set(int tid, ulong[] mask) => LinuxLibc.SchedSetAffinity(tid, MaskWords * sizeof(ulong), mask) == 0;

    private static ulong[] Mask(IReadOnlyList<int> cpus)
    {
        var mask = new ulong[MaskWords];
        foreach (var cpu in cpus)
            mask[cpu / 64] |= 1UL << (cpu % 64);
        return mask;
    }

    private static ulong[] AnyCpu() => [.. Enumerable.Repeat(ulong.MaxValue, MaskWords)]; // the kernel keeps those of the process's cpuset

    private static int[] Cpus(ulong[] mask)
        => [.. Enumerable.Range(0, MaskWords * 64).Where(cpu => (mask[cpu / 64] & (1UL << (cpu % 64))) != 0)];
}
