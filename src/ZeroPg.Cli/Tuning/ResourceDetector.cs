using System.Globalization;

namespace ZeroPg.Cli.Tuning;

/// <summary>Where a detected figure came from, for the report ("cgroup v2 memory.max").</summary>
internal sealed record DetectedResources(long MemoryMb, string MemorySource, int Cpus, string CpuSource);

/// <summary>
/// Memory and CPUs the server may use, as aza-pg detects them: an override (ZEROPG_MEMORY, then
/// POSTGRES_MEMORY in MB), then the cgroup v2 limit of this process's cgroup (memory.max, cpu.max),
/// then /proc/meminfo and the CPU count. The file system root is a parameter so tests can plant files.
/// </summary>
internal sealed class ResourceDetector(string root = "/", Func<string, string?>? environment = null, int? processorCount = null)
{
    private readonly Func<string, string?> _environment = environment ?? Environment.GetEnvironmentVariable;

    public DetectedResources Detect(string? memoryFlag, int? cpusFlag)
    {
        var (memory, memorySource) = memoryFlag is not null ? (MemorySize.ParseMb(memoryFlag), "--memory") : DetectMemory();
        var (cpus, cpuSource) = cpusFlag is { } n ? (n, "--cpus") : DetectCpus();
        return new DetectedResources(memory, memorySource, cpus, cpuSource);
    }

    private (long, string) DetectMemory()
    {
        if (_environment("ZEROPG_MEMORY") is { Length: > 0 } zeropg)
            return (MemorySize.ParseMb(zeropg), "ZEROPG_MEMORY");
        if (_environment("POSTGRES_MEMORY") is { Length: > 0 } postgres)
            return (MemorySize.ParseMb(postgres), "POSTGRES_MEMORY");
        if (ReadCgroup("memory.max") is { } max && max != "max" && long.TryParse(max, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes))
            return (bytes / (1024 * 1024), "cgroup v2 memory.max");
        foreach (var line in ReadLines("proc/meminfo"))
        {
            if (!line.StartsWith("MemTotal:", StringComparison.Ordinal))
                continue;
            var kb = long.Parse(line["MemTotal:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            return (kb / 1024, "/proc/meminfo");
        }
        throw new InvalidOperationException("cannot detect memory (no cgroup v2 limit, no /proc/meminfo); pass --memory, e.g. --memory 4GB");
    }

    private (int, string) DetectCpus()
    {
        // cpu.max is "QUOTA PERIOD" or "max PERIOD"; a quota of 150000/100000 is 1.5 CPUs, rounded up.
        if (ReadCgroup("cpu.max")?.Split(' ') is [var quota, var period] && quota != "max"
            && long.TryParse(quota, CultureInfo.InvariantCulture, out var q) && long.TryParse(period, CultureInfo.InvariantCulture, out var p) && p > 0)
            return ((int)Math.Max(1, (q + p - 1) / p), "cgroup v2 cpu.max");
        return (processorCount ?? Environment.ProcessorCount, "CPU count");
    }

    /// <summary>The value of a cgroup v2 file for this process's cgroup ("0::/path" in /proc/self/cgroup).</summary>
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

/// <summary>Memory sizes as people write them: "4GB", "512MB", "1.5G", or a plain number of MB (POSTGRES_MEMORY's unit).</summary>
internal static class MemorySize
{
    public static long ParseMb(string text)
    {
        var s = text.Trim().ToUpperInvariant().Replace(" ", "", StringComparison.Ordinal);
        var (number, factor) = s switch
        {
            _ when s.EndsWith("GB", StringComparison.Ordinal) => (s[..^2], 1024.0),
            _ when s.EndsWith("G", StringComparison.Ordinal) => (s[..^1], 1024.0),
            _ when s.EndsWith("MB", StringComparison.Ordinal) => (s[..^2], 1.0),
            _ when s.EndsWith("M", StringComparison.Ordinal) => (s[..^1], 1.0),
            _ when s.EndsWith("TB", StringComparison.Ordinal) => (s[..^2], 1024.0 * 1024),
            _ => (s, 1.0),
        };
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) || value * factor < 64)
            throw new ArgumentException($"'{text}' is not a memory size of at least 64MB (write e.g. 512MB, 4GB, or a number of MB)");
        return (long)(value * factor);
    }
}
