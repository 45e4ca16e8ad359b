using System.Globalization;
using ZeroPg.Platform;

namespace ZeroPg.Cli.Tuning;

/// <summary>Where a detected figure came from, for the report ("cgroup v2 memory.max").</summary>
internal sealed record DetectedResources(long MemoryMb, string MemorySource, int Cpus, string CpuSource);

/// <summary>
/// Memory and CPUs the server may use, as aza-pg detects them: an override (ZEROPG_MEMORY, then POSTGRES_MEMORY in MB),
/// then the limits the platform states (<see cref="HostPlatform.Limits"/>: on Linux the cgroup v2 limit of this process's
/// cgroup, memory.max and cpu.max, then /proc/meminfo), then the CPU count. <paramref name="platform"/> and the file system
/// <paramref name="root"/> it reads under are parameters so tests can plant files.
/// </summary>
internal sealed class ResourceDetector(string root = "/", Func<string, string?>? environment = null, int? processorCount = null, HostPlatform? platform = null)
{
    private readonly Func<string, string?> _environment = environment ?? Environment.GetEnvironmentVariable;
    private readonly MachineLimits _limits = (platform ?? HostPlatform.Current).Limits(root);

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
        return _limits.Memory() ?? throw new InvalidOperationException("cannot detect memory (no cgroup v2 limit, no /proc/meminfo); pass --memory, e.g. --memory 4GB");
    }

    private (int, string) DetectCpus() => _limits.CpuQuota() ?? (processorCount ?? Environment.ProcessorCount, "CPU count");
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
