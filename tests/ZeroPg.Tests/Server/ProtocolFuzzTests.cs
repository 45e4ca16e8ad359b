using System.Globalization;
using Xunit.Abstractions;
using ZeroPg.Fuzz;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Server;

/// <summary>
/// The protocol fuzzer (tests/ZeroPg.Fuzz) for a bounded time on a server of its own: no stall of the witness client,
/// no engine death, engine memory bounded. It starts with the COPY-mode sweep (every message type sent in COPY IN and
/// COPY OUT mode, in every size class, whole and truncated), then random cases. The seed changes per run (printed;
/// ZEROPG_FUZZ_SEED fixes it), so CI keeps exploring; a failure prints the suspect cases and the command that replays them.
/// </summary>
public sealed class ProtocolFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Forty_five_seconds_of_fuzzed_frontend_messages_stall_nobody_and_kill_no_engine()
    {
        var seed = Environment.GetEnvironmentVariable("ZEROPG_FUZZ_SEED") is { } fixedSeed
            ? int.Parse(fixedSeed, CultureInfo.InvariantCulture)
            : Random.Shared.Next(1, 1_000_000);
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions
        {
            MaxConnections = 200,
            // A host of its own: the memory bound below is about this engine, not other tests' engines starting in a shared one.
            EngineHostGroup = Guid.NewGuid().ToString("N"),
        }, TestLogging.Factory);
        var options = new FuzzOptions { Seed = seed, Clients = 6, Duration = TimeSpan.FromSeconds(45), WitnessBound = TimeSpan.FromSeconds(15) };
        var run = new FuzzRun(options, server.Host, server.Port, server.GetConnectionString() + ";Pooling=false", ServerProbe.Of(server));

        var report = await run.RunAsync();

        output.WriteLine(report.ToString());
        Assert.True(report.Passed, report.ToString());
        Assert.True(report.Messages > 10_000, $"only {report.Messages} messages: the fuzzer did not get going\n{report}");
        Assert.True(report.WitnessQueries > 10, report.ToString());
        // Every frontend message type in COPY IN and COPY OUT mode, small, at the small-message limit and oversized, whole
        // and truncated, once each, then more among the random cases.
        Assert.Equal(CaseGenerator.CopySweepCases, report.CopySweepSent);
        Assert.True(report.CopyModeCases > CaseGenerator.CopySweepCases, report.ToString());
        // PGlite's WebAssembly memory only grows; what must not happen is growth per message (the 256 MB Syncs of issue 18).
        Assert.True(report.EngineRssAfter < report.EngineRssBefore + 400L * 1024 * 1024, report.ToString());
    }
}
