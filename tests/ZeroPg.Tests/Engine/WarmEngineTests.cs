using System.Diagnostics;
using Xunit.Abstractions;
using ZeroPg.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Engine;

/// <summary>The spare engine is one per process: a server of another test class with KeepWarmEngine (other settings) replaces it.
/// Run alone, after the parallel classes.</summary>
[CollectionDefinition(nameof(WarmEngineTests), DisableParallelization = true)]
public sealed class WarmEngineCollection;

[Collection(nameof(WarmEngineTests))]
public sealed class WarmEngineTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_next_memory_database_takes_the_spare_engine()
    {
        var options = () => new ZeroPgOptions { KeepWarmEngine = true, Extensions = ["pg_trgm"] };
        long firstEngine;
        await using (var first = await ZeroPgServer.StartAsync(options(), TestLogging.Factory))
            firstEngine = first.EngineId!.Value;
        await Eventually.WaitUntilAsync(() => WarmEngine.ReadySpare is not null, "a spare engine ready", TimeSpan.FromSeconds(60));
        var spare = WarmEngine.ReadySpare!;
        // A spare costs a worker of the shared engine host, not a process (where the machine runs the shared host).
        Assert.Equal(EngineHostModes.UsesSharedHost(options()), spare.IsSharedHostWorker);

        var clock = Stopwatch.StartNew();
        await using var second = await ZeroPgServer.StartAsync(options(), TestLogging.Factory);
        Assert.Equal(1, await DataDirectoryTests.ExecuteAsync(second, "select 1"));
        output.WriteLine($"second database with a warm engine: first query after {clock.ElapsedMilliseconds} ms");
        Assert.NotEqual(firstEngine, second.EngineId);
        Assert.Equal(spare.Id, second.EngineId);
    }
}
