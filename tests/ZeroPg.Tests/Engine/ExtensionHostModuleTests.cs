using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Engine;

/// <summary>The engine host's own tests of its extension loader (node's test runner: engine-host/extensions.test.mjs).</summary>
public sealed class ExtensionHostModuleTests
{
    [Fact]
    public async Task The_engine_hosts_extension_loader_passes_its_node_tests()
    {
        var result = await ExternalTool.RunAsync("node", ["--test", Path.Combine(RepoPaths.Root, "engine-host", "extensions.test.mjs")], timeout: TimeSpan.FromMinutes(2));
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("# fail 0", result.Stdout);
    }
}
