using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Engine;

/// <summary>
/// The engine host's own tests (node's test runner over engine-host/test/: framing, frame kinds against
/// HostFrame.cs, control commands, batches over the real pipe, the extension loader).
/// </summary>
public sealed class EngineHostNodeTests
{
    [Fact]
    public async Task The_engine_hosts_node_tests_pass()
    {
        var result = await ExternalTool.RunAsync("node", ["--test", Path.Combine(RepoPaths.Root, "engine-host", "test")], timeout: TimeSpan.FromMinutes(5));
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("# fail 0", result.Stdout);
    }
}
