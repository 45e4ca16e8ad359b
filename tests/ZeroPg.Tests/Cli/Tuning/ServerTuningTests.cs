using Npgsql;
using ZeroPg.Cli;
using ZeroPg.Cli.Tuning;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Cli.Tuning;

public class ServerTuningTests
{
    // The aza-pg memory table (../shared/seeds/aza-pg-operations.txt), row by row:
    // RAM MB, shared_buffers, effective_cache_size, maintenance_work_mem, work_mem, max_connections.
    [Theory]
    [InlineData(512, "128MB", "384MB", "32MB", "1MB", "80")]
    [InlineData(1024, "256MB", "768MB", "32MB", "2MB", "120")]
    [InlineData(2048, "512MB", "1536MB", "64MB", "4MB", "120")]
    [InlineData(4096, "1024MB", "3072MB", "128MB", "5MB", "200")]
    [InlineData(8192, "2048MB", "6144MB", "256MB", "10MB", "200")]
    [InlineData(16384, "3276MB", "12288MB", "512MB", "20MB", "200")]
    [InlineData(32768, "6553MB", "24576MB", "1024MB", "32MB", "200")]
    [InlineData(65536, "9830MB", "49152MB", "2048MB", "32MB", "200")]
    public void Reproduces_the_aza_pg_table(long memoryMb, string sharedBuffers, string effectiveCache, string maintenance, string work, string connections)
    {
        var settings = ServerTuning.Compute(memoryMb, 4).ToDictionary(s => s.Name, s => s.Value);
        Assert.Equal(sharedBuffers, settings["shared_buffers"]);
        Assert.Equal(effectiveCache, settings["effective_cache_size"]);
        Assert.Equal(maintenance, settings["maintenance_work_mem"]);
        Assert.Equal(work, settings["work_mem"]);
        Assert.Equal(connections, settings["max_connections"]);
    }

    [Fact]
    public void Caps_hold_beyond_the_table_and_cpus_drive_parallelism()
    {
        var big = ServerTuning.Compute(512 * 1024, 64).ToDictionary(s => s.Name, s => s.Value);
        Assert.Equal("32768MB", big["shared_buffers"]);
        Assert.Equal("2048MB", big["maintenance_work_mem"]);
        Assert.Equal("32MB", big["work_mem"]);
        Assert.Equal("64", big["max_worker_processes"]);
        Assert.Equal("64", big["max_parallel_workers"]);
        Assert.Equal("4", big["max_parallel_workers_per_gather"]);
        var small = ServerTuning.Compute(1024, 1, StorageKind.Hdd).ToDictionary(s => s.Name, s => s.Value);
        Assert.Equal("8", small["max_worker_processes"]);
        Assert.Equal("1", small["max_parallel_workers_per_gather"]);
        Assert.Equal("4", small["random_page_cost"]);
        Assert.Equal("2", small["effective_io_concurrency"]);
        Assert.Equal("8MB", small["wal_buffers"]);
    }

    [Theory]
    [InlineData("4GB", 4096)]
    [InlineData("512MB", 512)]
    [InlineData("1.5G", 1536)]
    [InlineData("65536", 65536)]
    public void Parses_memory_sizes(string text, long mb) => Assert.Equal(mb, MemorySize.ParseMb(text));

    [Theory]
    [InlineData("lots")]
    [InlineData("10MB")]
    [InlineData("-1GB")]
    public void Refuses_bad_memory_sizes(string text) => Assert.Throws<ArgumentException>(() => MemorySize.ParseMb(text));

    [Fact]
    public void Detects_cgroup_v2_limits_before_proc()
    {
        using var root = new PlantedRoot();
        root.Write("proc/self/cgroup", "0::/app.slice/zeropg.scope\n");
        root.Write("proc/meminfo", "MemTotal:       24576000 kB\nMemFree: 1 kB\n");
        root.Write("sys/fs/cgroup/app.slice/zeropg.scope/memory.max", "2147483648\n");
        root.Write("sys/fs/cgroup/app.slice/zeropg.scope/cpu.max", "150000 100000\n");
        var detected = new ResourceDetector(root.Path, _ => null, processorCount: 16).Detect(null, null);
        Assert.Equal(new DetectedResources(2048, "cgroup v2 memory.max", 2, "cgroup v2 cpu.max"), detected);

        // No limit ("max"): /proc/meminfo and the CPU count.
        root.Write("sys/fs/cgroup/app.slice/zeropg.scope/memory.max", "max\n");
        root.Write("sys/fs/cgroup/app.slice/zeropg.scope/cpu.max", "max 100000\n");
        detected = new ResourceDetector(root.Path, _ => null, processorCount: 16).Detect(null, null);
        Assert.Equal(new DetectedResources(24000, "/proc/meminfo", 16, "CPU count"), detected);

        // Overrides: ZEROPG_MEMORY before POSTGRES_MEMORY (MB) before the cgroup; flags before all.
        var env = new Dictionary<string, string> { ["POSTGRES_MEMORY"] = "1024" };
        Assert.Equal(1024, new ResourceDetector(root.Path, env.GetValueOrDefault, 16).Detect(null, null).MemoryMb);
        env["ZEROPG_MEMORY"] = "8GB";
        Assert.Equal(8192, new ResourceDetector(root.Path, env.GetValueOrDefault, 16).Detect(null, null).MemoryMb);
        Assert.Equal(new DetectedResources(512, "--memory", 3, "--cpus"), new ResourceDetector(root.Path, env.GetValueOrDefault, 16).Detect("512MB", 3));
    }

    [Fact]
    public void Formats_conf_flags_and_json()
    {
        var settings = ServerTuning.Compute(4096, 4);
        var resources = new DetectedResources(4096, "--memory", 4, "--cpus");
        Assert.Contains("shared_buffers = '1024MB'", TuneCommand.Render(settings, "conf", resources), StringComparison.Ordinal);
        Assert.Contains("checkpoint_completion_target = 0.9", TuneCommand.Render(settings, "conf", resources), StringComparison.Ordinal);
        Assert.StartsWith("-c shared_buffers=1024MB -c effective_cache_size=3072MB", TuneCommand.Render(settings, "flags", resources), StringComparison.Ordinal);
        using var json = System.Text.Json.JsonDocument.Parse(TuneCommand.Render(settings, "json", resources));
        Assert.Equal("200", json.RootElement.GetProperty("max_connections").GetString());
    }

    private sealed class PlantedRoot : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("zeropg-tune-").FullName;

        public void Write(string relative, string text)
        {
            var file = System.IO.Path.Join(Path, relative);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(file)!);
            File.WriteAllText(file, text);
        }

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}

/// <summary>PostgreSQL 15 itself accepts every setting tune emits, at every table size (ALTER SYSTEM validates names and values).</summary>
[Collection(NativePostgresCollection.Name)]
public class ServerTuningOnPostgresTests(NativePostgres postgres)
{
    [Fact]
    public async Task Postgres_15_accepts_every_setting()
    {
        await using var connection = new NpgsqlConnection(postgres.ConnectionString());
        await connection.OpenAsync();
        try
        {
            foreach (var memory in new long[] { 512, 4096, 65536 })
            {
                foreach (var setting in ServerTuning.Compute(memory, 8, StorageKind.Ssd).Concat(ServerTuning.Compute(memory, 1, StorageKind.Hdd)))
                {
                    await using var command = new NpgsqlCommand($"ALTER SYSTEM SET {setting.Name} = '{setting.Value}'", connection);
                    await command.ExecuteNonQueryAsync();
                    // Postgres parsed and wrote it: postgresql.auto.conf has the value, with no error against it.
                    await using var written = new NpgsqlCommand(
                        "SELECT setting, error FROM pg_file_settings WHERE name = $1 AND sourcefile LIKE '%postgresql.auto.conf'", connection)
                    { Parameters = { new() { Value = setting.Name } } };
                    await using var reader = await written.ExecuteReaderAsync();
                    Assert.True(await reader.ReadAsync(), $"{setting.Name} missing from postgresql.auto.conf");
                    Assert.Equal(setting.Value, reader.GetString(0));
                    // A setting that needs a restart (max_connections, shared_buffers) reads "setting could not be applied" until one:
                    // it was accepted; a value Postgres cannot parse fails the ALTER SYSTEM itself.
                    var error = reader.IsDBNull(1) ? null : reader.GetString(1);
                    Assert.True(error is null or "setting could not be applied", $"{setting.Name} = '{setting.Value}': {error}");
                }
            }
        }
        finally
        {
            await using var reset = new NpgsqlCommand("ALTER SYSTEM RESET ALL", connection);
            await reset.ExecuteNonQueryAsync();
        }
    }
}
