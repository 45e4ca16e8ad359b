using Xunit.Abstractions;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>node-postgres named queries from concurrent clients (tests/node/named-queries.mjs checks its own results).</summary>
[Collection(ServerCollection.Name)]
public sealed class NodePostgresTests(ServerFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Named_queries_from_four_concurrent_clients_get_their_own_statements()
    {
        var script = Path.Combine(RepoPaths.NodeTests, "named-queries.mjs");
        Assert.True(Directory.Exists(Path.Combine(RepoPaths.NodeTests, "node_modules", "pg")),
            "tests/node/node_modules/pg is missing: the test project's build runs npm ci there");

        var result = await ExternalTool.RunAsync("node", [script, fixture.Url], timeout: TimeSpan.FromSeconds(60));
        output.WriteLine(result.All);
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("\"clients\":4,\"queries\":1612,\"failures\":[]", result.Stdout);
    }
}
