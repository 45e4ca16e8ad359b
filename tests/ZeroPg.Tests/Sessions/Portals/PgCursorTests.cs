using Xunit.Abstractions;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions.Portals;

/// <summary>
/// node-postgres pg-cursor (tests/node/cursor-batches.mjs) reading in batches outside a transaction beside another connection's
/// writes, on native PostgreSQL 15 and on ZeroPg: the same output, no deadlock (before, the suspended portal held the shared engine
/// and the writer waited for it forever), a result past the read-ahead spool's memory limit, an error in a later batch, and a
/// cursor inside a transaction block.
/// </summary>
public sealed class PgCursorTests(ITestOutputHelper output) : ServersSideBySide
{
    [Fact]
    public async Task Batches_beside_another_connections_writes_match_postgres()
    {
        Assert.True(Directory.Exists(Path.Combine(RepoPaths.NodeTests, "node_modules", "pg-cursor")),
            "tests/node/node_modules/pg-cursor is missing: the test project's build runs npm ci there");
        var script = Path.Combine(RepoPaths.NodeTests, "cursor-batches.mjs");
        var expected = await ExternalTool.RunAsync("node", [script, Postgres.Url()], timeout: TimeSpan.FromSeconds(60));
        Assert.True(expected.ExitCode == 0, "PostgreSQL 15: " + expected.All);
        var actual = await ExternalTool.RunAsync("node", [script, ZeroPg.Url], timeout: TimeSpan.FromSeconds(60));
        output.WriteLine(actual.All);
        Assert.True(actual.ExitCode == 0, "ZeroPg: " + actual.All);
        Assert.Equal(expected.Stdout, actual.Stdout);
    }
}
