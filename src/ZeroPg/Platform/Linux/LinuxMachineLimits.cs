using System.Globalization;

namespace ZeroPg.Platform.Linux;

/// <summary>
/// Linux's limits, as aza-pg reads them: the cgroup v2 limits of this process's cgroup (memory.max, cpu.max; "0::/path" in
/// /proc/self/cgroup), else /proc/meminfo's MemTotal. Everything is read under <paramref name="root"/> ("/", or a folder
/// where tests plant the files).
/// </summary>
internal sealed class LinuxMachineLimits(string root) : MachineLimits
{
    public override (long Mb, string Source)? Memory()
    {
        if (ReadCgroup("memory.max") is { } max && max != "max" && long.TryParse(max, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes))
            return (bytes / (1024 * 1024), "cgroup v2 memory.max");
        foreach (var line in ReadLines("proc/meminfo"))
        {
            if (!line.StartsWith("MemTotal:", StringComparison.Ordinal))
                continue;
            var kb = long.Parse(line["MemTotal:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            return (kb / 1024, "/proc/meminfo");
        }
        return null;
    }

    /// <summary>cpu.max is "QUOTA PERIOD" or "max PERIOD"; a quota of 150000/100000 is 1.5 CPUs, rounded up.</summary>
    public override (int Cpus, string Source)? CpuQuota()
    {
        if (ReadCgroup("cpu.max")?.Split(' ') is [var quota, var period] && quota != "max"
            && long.TryParse(quota, CultureInfo.InvariantCulture, out var q) && long.TryParse(period, CultureInfo.InvariantCulture, out var p) && p > 0)
            return ((int)Math.Max(1, (q + p - 1) / p), "cgroup v2 cpu.max");
        return null;
    }

    /// <summary>The value of a cgroup v2 file for this process's cgroup.</summary>
    private string? ReadCgroup(string file)
    {
        var group = ReadLines("proc/self/cgroup").FirstOrDefault(l => l.StartsWith("0::", StringComparison.Ordinal))?[3..] ?? "/";
        foreach (var candidate in new[] { Path.Join(root, "sys/fs/cgroup", group, file), Path.Join(root, "sys/fs/cgroup", file) })
        {
            if (File.Exists(candidate))
                return File.ReadAllText(candidate).Trim();
        }
        return null;
    }

    private IEnumerable<string> ReadLines(string relative)
    {
        var path = Path.Join(root, relative);
        return File.Exists(path) ? File.ReadAllLines(path) : [];
    }
}
