using System.Diagnostics;
using ZeroPg.Engine;
using ZeroPg.Hosting;
using ZeroPg.Tests.Cli;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Engine;

/// <summary>
/// Engine hosts placed on their CPUs (ZeroPgOptions.EngineHostCpus): on any CPU while one of their engines starts, back on
/// theirs a settle time after the last start; a library server places only its engine hosts, never the application's own threads.
/// </summary>
public sealed class EngineHostCoresTests
{
    [Fact]
    public async Task A_host_is_on_any_cpu_while_any_of_its_engines_starts()
    {
        var allowed = CpuAffinity.Allowed();
        Assert.True(allowed.Length >= 2, $"this test needs two CPUs, the process has [{string.Join(',', allowed)}]");
        int[] own = [allowed[^1]];
        using var process = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        try
        {
            CpuAffinity.PlaceProcess(process.Id, own);
            Assert.Equal(own, CpuAffinity.Allowed(process.Id));
            EngineHostCores.BeginStart(process.Id);
            EngineHostCores.BeginStart(process.Id);
            Assert.Equal(allowed, CpuAffinity.Allowed(process.Id));
            EngineHostCores.Started(process.Id, own, warmup: TimeSpan.Zero);
            Assert.Equal(allowed, CpuAffinity.Allowed(process.Id)); // the other start is still running
            EngineHostCores.Started(process.Id, own, warmup: TimeSpan.Zero);
            Assert.Equal(own, CpuAffinity.Allowed(process.Id));
            EngineHostCores.Started(process.Id, allowed, warmup: TimeSpan.Zero); // no start left to end: nothing changes
            Assert.Equal(own, CpuAffinity.Allowed(process.Id));
        }
        finally
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task A_library_server_places_its_engine_host_and_leaves_the_application_alone()
    {
        var allowed = CpuAffinity.Allowed();
        Assert.True(allowed.Length >= 2, $"this test needs two CPUs, the process has [{string.Join(',', allowed)}]");
        int[] engine = [allowed[^1]];
        Environment.SetEnvironmentVariable("ZEROPG_SPLIT_CORES_WARMUP", "0"); // placed once started; no other test places hosts
        try
        {
            await PlacesItsHostOnlyAsync(allowed, engine);
        }
        finally
        {
            Environment.SetEnvironmentVariable("ZEROPG_SPLIT_CORES_WARMUP", null);
        }
    }

    private static async Task PlacesItsHostOnlyAsync(int[] allowed, int[] engine)
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions
        {
            EngineHostCpus = engine,
            EngineHostGroup = Guid.NewGuid().ToString("N"), // a host of its own, placed: other tests' engines stay where they are
        }, TestLogging.Factory);
        Assert.Equal(1L, await DataDirectoryTests.ExecuteAsync(server, "select 1::bigint"));
        var host = server.RunningEngine!.ProcessId;
        await Eventually.WaitUntilAsync(() => CoreSplitTests.Placed(host, engine), "the engine host on its CPU", timeout: TimeSpan.FromSeconds(60));
        Assert.Equal(allowed, CpuAffinity.Allowed(Environment.ProcessId));
        Assert.True(CoreSplitTests.Placed(Environment.ProcessId, allowed), "no thread of this process was placed");
    }

    [Fact]
    public async Task Cpus_out_of_range_are_refused()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => ZeroPgServer.StartAsync(new ZeroPgOptions { EngineHostCpus = [] }, TestLogging.Factory));
        Assert.Contains("EngineHostCpus", error.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => ZeroPgServer.StartAsync(new ZeroPgOptions { EngineHostCpus = [1024] }, TestLogging.Factory));
    }
}
