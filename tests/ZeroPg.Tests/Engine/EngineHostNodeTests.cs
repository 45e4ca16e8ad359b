using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Engine;

/// <summary>The engine host's own tests (node's test runner, engine-host/test/): framing, control commands, shared memory, the shared host, cancel.</summary>
[TakesAbout(420)]
public sealed class EngineHostNodeTests
{
    /// <summary>The slow one, below, is left out of the default run.</summary>
    private const string HostCancelTests = "host.test.mjs";

    /// <summary>
    /// Left to the Slow run, each minutes of engine starts under the suite's load, whose paths every engine start of the default
    /// run takes: the start-time shortcuts' equivalence checks (a lookup gets the slot the table walk gives, the lazily made
    /// files list as the eager ones, side modules find the main module's symbols; ~130 s), and the start record's cases
    /// (start-record.test.mjs, ~220 s: another engine build, a new cluster, the conversions, the roles; StartRecordTests keeps
    /// its two main cases, a clean stop's reuse and a crash's rebuild, and the roles, in the default run).
    /// </summary>
    private static readonly string[] StartShortcutTests = ["lazy-bundle-files.test.mjs", "lazy-got.test.mjs", "lazy-table-map.test.mjs", "start-record.test.mjs"];

    /// <summary>
    /// Left to the Slow run too: the shared host's memory after engines end (engine-pool-memory.test.mjs, ~135 s of engine starts
    /// and sorts under the suite's load). In the default run SharedEngineHostRecycleTests keeps a host's memory budget, and
    /// engine-pool.test.mjs the shared host's channels, cancels and exits.
    /// </summary>
    private static readonly string[] MemoryTests = ["engine-pool-memory.test.mjs"];

    /// <summary>Every test file in engine-host/test, read from the folder: a new file is run without being listed here too.</summary>
    public static TheoryData<string> ModuleTests => new(
        Directory.GetFiles(Path.Combine(RepoPaths.Root, "engine-host", "test"), "*.test.mjs")
            .Select(Path.GetFileName).OfType<string>().Where(file => file != HostCancelTests && !StartShortcutTests.Contains(file) && !MemoryTests.Contains(file)).Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(ModuleTests))]
    public async Task Module_tests_pass(string file) => await RunAsync(file, TimeSpan.FromMinutes(8));

    public static TheoryData<string> StartShortcuts => new(StartShortcutTests);

    public static TheoryData<string> Memory => new(MemoryTests);

    [Theory]
    [Trait("Category", "Slow")]
    [MemberData(nameof(Memory))]
    public async Task Memory_tests_pass(string file) => await RunAsync(file, TimeSpan.FromMinutes(8));

    [Theory]
    [Trait("Category", "Slow")]
    [MemberData(nameof(StartShortcuts))]
    public async Task Start_shortcut_tests_pass(string file) => await RunAsync(file, TimeSpan.FromMinutes(8));

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
