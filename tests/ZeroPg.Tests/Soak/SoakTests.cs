using Xunit.Abstractions;
using ZeroPg.Soak;
using ZeroPg.Tests.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Soak;

/// <summary>
/// The soak (tests/ZeroPg.Soak, bench/soak.sh) for 2 minutes: a `zeropg serve --db DIR` under pgbench TPC-B, COPY, NOTIFY
/// ping-pong, connection churn, a pgoutput consumer, CREATE/DROP DATABASE, an evicted database, cancels; one SIGKILL of
/// the engine host (at 0:40) and one of the server (at 1:20). Every acknowledged commit survives, every ledger row reaches
/// the consumer once and in order, every NOTIFY arrives, nothing is left in the server's TMPDIR, the witness never waits
/// 30 s. (Growth and the witness's 2 s are the hour's, a benchmark's: 2 minutes see only warm-up, and CI's load. It ran 3 minutes
/// until the default run's CPU time had to come down: the third minute repeated what the first two do.)
/// </summary>
[TakesAbout(170)]
public sealed class SoakTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Two_minutes_under_everything_at_once_lose_nothing_and_survive_an_engine_and_a_server_kill()
    {
        using var directory = new TempDirectory();
        using var progress = new StringWriter();
        var result = await new SoakRun(new SoakOptions
        {
            DataDirectory = directory.Sub("db"),
            Minutes = 2,
            CopyMegabytes = 10,
            PgbenchRate = 100, // the rest of the suite runs beside it on 2 cores
            // A wedge, not a latency target (those live in bench/: the hour's run holds the witness to 2 s). On the loaded
            // 2-core machine the witness's p99 was 4.2 s in this test beside nothing but the other soak test.
            WitnessBound = TimeSpan.FromSeconds(30),
            Progress = TextWriter.Synchronized(progress),
        }).RunAsync();

        output.WriteLine(result.Text);
        output.WriteLine(progress.ToString());
        Assert.True(result.Passed, result.Text);
        // It did something: commits to lose, rows to replicate, NOTIFYs to lose, both kills.
        var ledger = (Dictionary<string, object>)result.Report["ledger"];
        Assert.True(Convert.ToInt64(ledger["acknowledged"]) > 500, result.Text);
        var notify = (Dictionary<string, object>)result.Report["notify"];
        Assert.True(Convert.ToInt64(notify["delivered"]) > 100, result.Text);
        var faults = (Dictionary<string, object>)result.Report["faults"];
        Assert.Equal(1, faults["engineKills"]);
        Assert.Equal(1, faults["serverKills"]);
    }
}

/// <summary>
/// The soak can fail: its test hook deletes one acknowledged ledger row once the server is back after the first kill. In the Slow
/// run (~60 s of a loaded soak): it checks the soak's checker, and the default run keeps the soak itself.
/// </summary>
[TakesAbout(90)]
public sealed class SoakLostCommitTests(ITestOutputHelper output)
{
    [Fact]
    [Trait("Category", "Slow")]
    public async Task The_soak_fails_when_an_acknowledged_commit_is_lost()
    {
        using var directory = new TempDirectory();
        using var progress = new StringWriter();
        var result = await new SoakRun(new SoakOptions
        {
            DataDirectory = directory.Sub("db"),
            Minutes = 1.5, // its first fault, an engine kill, at 0:30; the run stops at the failed check after it
            CopyMegabytes = 2,
            PgbenchRate = 50,
            InjectLostCommit = true,
            StopOnFailure = true,
            Progress = TextWriter.Synchronized(progress),
        }).RunAsync();

        output.WriteLine(result.Text);
        output.WriteLine(progress.ToString());
        Assert.False(result.Passed, result.Text);
        var lost = Assert.Single(result.Checks, c => c.Name == "acknowledged commits lost");
        Assert.Equal(1, lost.Value);
        Assert.False(lost.Passed);
    }
}
