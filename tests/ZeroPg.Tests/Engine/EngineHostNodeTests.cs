using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Engine;

/// <summary>The engine host's own tests (node's test runner, engine-host/test/): framing, control commands, shared memory, the shared host, cancel.</summary>
public sealed class EngineHostNodeTests
{
    [Theory]
    [InlineData("frames.test.mjs")]
    [InlineData("framing.test.mjs")]
    [InlineData("control.test.mjs")]
    [InlineData("shared-memory.test.mjs")]
    [InlineData("interrupts.test.mjs")]
    [InlineData("extensions.test.mjs")]
    [InlineData("ring-wait.test.mjs")]
    [InlineData("relocate.test.mjs")]
    [InlineData("compile-hints.test.mjs")]
    [InlineData("fresh-memory.test.mjs")]
    [InlineData("shared-bundle.test.mjs")]
    [InlineData("engine-pool.test.mjs")]
    [InlineData("memfs-growth.test.mjs")]
    [InlineData("tar-load.test.mjs")]
    [InlineData("wal-trim.test.mjs")]
    [InlineData("clean-dump.test.mjs")]
    [InlineData("yield.test.mjs")]
    [InlineData("wasm-flags.test.mjs")]
    [InlineData("wasm-bytes.test.mjs")]
    [InlineData("lazy-got.test.mjs")]
    public async Task Module_tests_pass(string file) => await RunAsync(file, TimeSpan.FromMinutes(4));

    /// <summary>Cancels of long queries of every shape and the engine's own statement timeouts, on memory and on disk (~20 s alone).</summary>
    [Fact]
    [Trait("Category", "Slow")]
    public async Task Host_cancel_tests_pass() => await RunAsync("host.test.mjs", TimeSpan.FromMinutes(12));

    private static async Task RunAsync(string file, TimeSpan timeout)
    {
        var result = await ExternalTool.RunAsync("node", ["--test", Path.Combine(RepoPaths.Root, "engine-host", "test", file)], timeout: timeout);
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("# fail 0", result.Stdout);
    }
}
