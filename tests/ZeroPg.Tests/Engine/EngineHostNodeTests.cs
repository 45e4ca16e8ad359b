using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Engine;

/// <summary>The engine host's own tests (node's test runner, engine-host/test/): framing, control commands, shared memory, the shared host, cancel.</summary>
[TakesAbout(400)]
public sealed class EngineHostNodeTests
{
    /// <summary>The slow one, below, is left out of the default run.</summary>
    private const string HostCancelTests = "host.test.mjs";

    /// <summary>Every test file in engine-host/test, read from the folder: a new file is run without being listed here too.</summary>
    public static TheoryData<string> ModuleTests => new(
        Directory.GetFiles(Path.Combine(RepoPaths.Root, "engine-host", "test"), "*.test.mjs")
            .Select(Path.GetFileName).OfType<string>().Where(file => file != HostCancelTests).Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(ModuleTests))]
    public async Task Module_tests_pass(string file) => await RunAsync(file, TimeSpan.FromMinutes(8));

    /// <summary>Cancels of long queries of every shape and the engine's own statement timeouts, on memory and on disk (~20 s alone).</summary>
    [Fact]
    [Trait("Category", "Slow")]
    public async Task Host_cancel_tests_pass() => await RunAsync(HostCancelTests, TimeSpan.FromMinutes(12));

    private static async Task RunAsync(string file, TimeSpan timeout)
    {
        var result = await ExternalTool.RunAsync("node", ["--test", Path.Combine(RepoPaths.Root, "engine-host", "test", file)], timeout: timeout);
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("# fail 0", result.Stdout);
    }
}
