using System.Globalization;

namespace ZeroPg.Cli.Tuning;

/// <summary>Storage the data directory sits on; it decides the planner's I/O costs.</summary>
internal enum StorageKind { Ssd, Hdd }

/// <summary>One postgresql.conf setting: name and value as postgres accepts it ("512MB", "0.9").</summary>
internal sealed record TuneSetting(string Name, string Value);

/// <summary>
/// Production settings for a PostgreSQL server of a given memory and CPU count. The memory rows are
/// the aza-pg table (512 MB to 64 GB) reproduced exactly by its ratios: shared_buffers 25% up to
/// 8 GB, 20% up to 32 GB, 15% above (cap 32 GB); effective_cache_size 75%; maintenance_work_mem
/// RAM/32 within 32 MB..2 GB; max_connections 80 (≤512 MB), 120 (&lt;4 GB), 200; work_mem
/// RAM/(4·max_connections) within 1..32 MB. The rest (workers, I/O, WAL, checkpoints) is what the
/// table leaves out and a production server wants, derived from CPUs and storage.
/// </summary>
internal static class ServerTuning
{
    public static IReadOnlyList<TuneSetting> Compute(long memoryMb, int cpus, StorageKind storage = StorageKind.Ssd)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(memoryMb, 64);
        ArgumentOutOfRangeException.ThrowIfLessThan(cpus, 1);
        var maxConnections = MaxConnections(memoryMb);
        var sharedBuffers = SharedBuffersMb(memoryMb);
        var settings = new List<TuneSetting>
        {
            new("shared_buffers", Mb(sharedBuffers)),
            new("effective_cache_size", Mb(memoryMb * 3 / 4)),
            new("maintenance_work_mem", Mb(Math.Clamp(memoryMb / 32, 32, 2048))),
            new("work_mem", Mb(Math.Clamp(memoryMb / (4L * maxConnections), 1, 32))),
            new("max_connections", maxConnections.ToString(CultureInfo.InvariantCulture)),
            // Beyond the table: parallelism from the CPUs the server may use.
            new("max_worker_processes", Math.Max(8, cpus).ToString(CultureInfo.InvariantCulture)),
            new("max_parallel_workers", cpus.ToString(CultureInfo.InvariantCulture)),
            new("max_parallel_workers_per_gather", Math.Clamp(cpus / 2, 1, 4).ToString(CultureInfo.InvariantCulture)),
            new("max_parallel_maintenance_workers", Math.Clamp(cpus / 2, 1, 4).ToString(CultureInfo.InvariantCulture)),
            // SSDs seek as fast as they read sequentially and serve many requests at once.
            new("effective_io_concurrency", storage == StorageKind.Ssd ? "200" : "2"),
            new("random_page_cost", storage == StorageKind.Ssd ? "1.1" : "4"),
            // 1/32 of shared_buffers capped at 16 MB is postgres's own -1 rule, written out.
            new("wal_buffers", Mb(Math.Clamp(sharedBuffers / 32, 1, 16))),
            new("min_wal_size", memoryMb >= 4096 ? "1GB" : memoryMb >= 1024 ? "512MB" : "256MB"),
            new("max_wal_size", memoryMb >= 16384 ? "8GB" : memoryMb >= 4096 ? "4GB" : memoryMb >= 1024 ? "2GB" : "1GB"),
            new("checkpoint_completion_target", "0.9"),
        };
        return settings;
    }

    public static int MaxConnections(long memoryMb) => memoryMb <= 512 ? 80 : memoryMb < 4096 ? 120 : 200;

    public static long SharedBuffersMb(long memoryMb)
    {
        var percent = memoryMb <= 8192 ? 25 : memoryMb <= 32768 ? 20 : 15;
        return Math.Min(memoryMb * percent / 100, 32 * 1024);
    }

    private static string Mb(long mb) => mb.ToString(CultureInfo.InvariantCulture) + "MB";
}
