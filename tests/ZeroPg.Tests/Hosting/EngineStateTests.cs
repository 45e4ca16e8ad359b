using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using ZeroPg.Databases;
using ZeroPg.Engine;
using ZeroPg.Tests.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Hosting;

/// <summary>
/// Each engine's state in /metrics and on the dashboard: running (its database has clients), idle (none), evicted (stopped
/// after the idle timeout, its memory given back) and spare (started for the next CREATE DATABASE: a worker of the shared
/// engine host, not a process), with the memory each holds and the shared engine hosts they run in.
/// </summary>
public sealed class EngineStateTests
{
    [Fact]
    public async Task A_database_s_engine_is_running_with_a_client_then_idle_then_evicted()
    {
        using var directory = new TempDirectory();
        var options = new ZeroPgOptions
        {
            DataDirectory = directory.Sub("db"),
            HttpPort = 0,
            SpareDatabaseEngine = SpareEngineMode.Off,
            DatabaseIdleTimeout = TimeSpan.FromSeconds(5), // long enough to see it idle first
        };
        await using var server = await ZeroPgServer.StartAsync(options, TestLogging.Factory);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.HttpPort}") };
        await using (var setup = await OpenAsync(server, "postgres"))
            await setup.ExecAsync("create database d");

        await using (var client = await OpenAsync(server, "d"))
        {
            Assert.Equal(1, await client.ScalarAsync("select 1"));
            var metrics = await http.GetStringAsync("/metrics");
            Assert.Contains("zeropg_database_engine_state{database=\"d\",state=\"running\"} 1", metrics);
            Assert.Contains("zeropg_database_engine_state{database=\"d\",state=\"idle\"} 0", metrics);
            Assert.Contains("zeropg_database_engine_state{database=\"postgres\",state=\"idle\"} 1", metrics);
            Assert.Matches(@"zeropg_database_engine_memory_bytes\{database=""d""\} \d{7,}", metrics);
            Assert.Contains("zeropg_engines{state=\"running\"} 1", metrics);
            Assert.Equal("running", DatabaseState(await StatusAsync(http), "d"));
            Assert.Contains(Engines(await StatusAsync(http)), e => e.Database == "d" && e.State == "running" && e.Memory > 10_000_000);
        }
        // The client has left: idle until the idle timeout stops the engine (on disk: its data stays).
        var idle = await Eventually.ValueAsync(() => http.GetStringAsync("/metrics"),
            text => text.Contains("zeropg_database_engine_state{database=\"d\",state=\"idle\"} 1", StringComparison.Ordinal), _ => "d idle once its client left");
        Assert.Contains("zeropg_engines{state=\"idle\"} 2", idle); // postgres's and d's
        Assert.Equal("idle", DatabaseState(await StatusAsync(http), "d"));

        var evicted = await Eventually.ValueAsync(() => http.GetStringAsync("/metrics"),
            text => text.Contains("zeropg_database_engine_state{database=\"d\",state=\"evicted\"} 1", StringComparison.Ordinal), _ => "d evicted", TimeSpan.FromSeconds(60));
        Assert.Contains("zeropg_database_engine_running{database=\"d\"} 0", evicted);
        Assert.DoesNotContain("zeropg_database_engine_memory_bytes{database=\"d\"}", evicted);
        Assert.Contains("zeropg_engines{state=\"evicted\"} 1", evicted);
        var status = await StatusAsync(http);
        Assert.Equal("evicted", DatabaseState(status, "d"));
        Assert.DoesNotContain(Engines(status), e => e.Database == "d");
        var page = await http.GetStringAsync("/");
        Assert.Contains("\"state\":\"evicted\"", page); // the first snapshot, inside the page
        Assert.Contains("<h2>Shared engine hosts</h2>", page);
    }

    [Fact]
    public async Task The_spare_engine_is_a_shared_host_worker_listed_as_spare_with_its_memory()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { HttpPort = 0, SpareDatabaseEngine = SpareEngineMode.Always }, TestLogging.Factory);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.HttpPort}") };
        var metrics = await Eventually.ValueAsync(() => http.GetStringAsync("/metrics"),
            text => text.Contains("zeropg_engines{state=\"spare\"} 1", StringComparison.Ordinal), _ => "the spare engine started", TimeSpan.FromMinutes(2));
        Assert.Matches(@"zeropg_spare_engine_memory_bytes \d{7,}", metrics);
        var (spare, _) = server.Services.Databases.Spare!.Value;
        Assert.Equal(EngineHostModes.UsesSharedHost(new ZeroPgOptions()), spare.IsSharedHostWorker); // a worker, not a process, where the shared host runs

        var status = await StatusAsync(http);
        var listed = Assert.Single(Engines(status), e => e.Role == "spare");
        Assert.Equal("spare", listed.State);
        Assert.Equal(spare.ProcessId, listed.Pid);
        Assert.True(listed.Memory > 10_000_000);
        if (spare.IsSharedHostWorker)
        {
            Assert.True(listed.SharedHost);
            Assert.Matches(@"zeropg_shared_engine_hosts\{state=""serving""\} [1-9]", metrics);
            Assert.Contains(status.GetProperty("engineHosts").EnumerateArray(), h => h.GetProperty("pid").GetInt32() == spare.ProcessId
                && h.GetProperty("engines").GetInt32() >= 2 && h.GetProperty("residentBytes").GetInt64() > 50_000_000);
        }
    }

    [Fact]
    public async Task The_engines_memory_on_the_dashboard_is_measured_and_sums_to_their_processes_resident_memory()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { HttpPort = 0, SpareDatabaseEngine = SpareEngineMode.Always }, TestLogging.Factory);
        await using (var postgres = await OpenAsync(server, "postgres"))
        {
            await postgres.ScalarAsync("CREATE DATABASE shop");
            await postgres.ScalarAsync("CREATE TABLE big AS SELECT g, repeat('x', 200) AS pad FROM generate_series(1, 100000) g"); // postgres's engine holds more
        }
        await using var shop = await OpenAsync(server, "shop");
        await shop.ScalarAsync("SELECT 1");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.HttpPort}") };
        var engines = await Eventually.ValueAsync(async () => Engines(await StatusAsync(http)),
            listed => listed.Count >= 3 && listed.All(e => e.Memory > 0), _ => "postgres's, shop's and the spare's engines listed with their memory", TimeSpan.FromMinutes(2));

        // The processes' resident memory as the kernel counts it, read here, not by ZeroPg's code. The dashboard's figures are
        // sampled, and an idle engine's collection can free tens of MB between a sample and this read: a sample taken after it agrees.
        long resident = 0, listedSum = 0;
        engines = await Eventually.ValueAsync(async () => Engines(await StatusAsync(http)), listed =>
        {
            resident = listed.Select(e => e.Pid).Distinct().Sum(pid => ResidentBytes(pid));
            listedSum = listed.Sum(e => e.Memory);
            return listed.Count >= 3 && listed.All(e => e.Memory > 0) && Math.Abs(listedSum - resident) < resident / 10;
        }, _ => $"the engines' memory sums to {listedSum} bytes; their processes hold {resident}", TimeSpan.FromMinutes(1));
        Assert.DoesNotContain(engines, e => e.Memory == 134217728); // not a worker's reserved WebAssembly memory
        foreach (var host in engines.GroupBy(e => e.Pid))
            Assert.True(host.Sum(e => e.Memory) <= ResidentBytes(host.Key) * 11 / 10, $"the engines of process {host.Key} hold more than it");
    }

    /// <summary>VmRSS from /proc/PID/status.</summary>
    private static long ResidentBytes(int pid)
        => long.Parse(File.ReadLines($"/proc/{pid}/status").Single(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;

    private sealed record ListedEngine(string Role, string? Database, string State, int Pid, bool SharedHost, long Memory);

    private static List<ListedEngine> Engines(JsonElement status) => [.. status.GetProperty("engines").EnumerateArray().Select(e => new ListedEngine(
        e.GetProperty("role").GetString()!, e.GetProperty("database").ValueKind == JsonValueKind.Null ? null : e.GetProperty("database").GetString(),
        e.GetProperty("state").GetString()!, e.GetProperty("pid").GetInt32(), e.GetProperty("sharedHost").GetBoolean(),
        e.GetProperty("rssBytes").ValueKind == JsonValueKind.Number ? e.GetProperty("rssBytes").GetInt64() : 0))];

    private static string? DatabaseState(JsonElement status, string database)
        => status.GetProperty("databases").EnumerateArray().Single(d => d.GetProperty("name").GetString() == database).GetProperty("state").GetString();

    private static async Task<JsonElement> StatusAsync(HttpClient http) => await http.GetFromJsonAsync<JsonElement>("/api/status");

    private static async Task<NpgsqlConnection> OpenAsync(ZeroPgServer server, string database)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server.GetConnectionString()) { Database = database, Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }
}
