using Xunit.Abstractions;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Replication.Slots;

/// <summary>npm pg-logical-replication (tests/node/logical-replication.mjs, pinned by tests/node/package-lock.json): its slot made
/// with pg_create_logical_replication_slot($1, 'pgoutput') on an ordinary connection, streamed and acknowledged by its PgoutputPlugin,
/// then dropped with pg_drop_replication_slot($1). The script checks the messages itself (the same as native PostgreSQL 15 gives).</summary>
[Collection(ServerCollection.Name)]
[Trait("Category", "Slow")]
public sealed class PgLogicalReplicationTests(ServerFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Pg_logical_replication_creates_its_slot_with_the_sql_function_and_streams_from_it()
    {
        Assert.True(Directory.Exists(Path.Combine(RepoPaths.NodeTests, "node_modules", "pg-logical-replication")),
            "tests/node/node_modules/pg-logical-replication is missing: the test project's build runs npm ci there");
        var result = await ExternalTool.RunAsync("node", [Path.Combine(RepoPaths.NodeTests, "logical-replication.mjs"), fixture.Url], timeout: TimeSpan.FromSeconds(90));
        output.WriteLine(result.All);
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("\"ok\":true", result.Stdout);
    }
}
