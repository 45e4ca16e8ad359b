using System.Collections.Concurrent;
using Xunit.Abstractions;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Drivers;

/// <summary>
/// One ZeroPg server and one native PostgreSQL 15 shared by the driver tests. Every driver case runs against both:
/// against PostgreSQL to prove the script's expectations are Postgres's, against ZeroPg to compare its output with
/// PostgreSQL's line by line. The drivers' own collection runs beside the other tests' shared server.
/// </summary>
public sealed class DriverFixture : IAsyncLifetime
{
    private readonly ServerFixture _zeroPg = new();
    private readonly ConcurrentDictionary<(string Program, string Case), Lazy<Task<ExternalTool.Result>>> _nativeRuns = new();
    private Task<NativePostgres>? _native;

    public ZeroPgServer ZeroPg => _zeroPg.Server;

    public ServerFixture ZeroPgFixture => _zeroPg;

    /// <summary>Started with the fixture; a missing postgresql-15 fails the tests that use it, with the package to install.</summary>
    public Task<NativePostgres> Native => _native!;

    public async Task InitializeAsync()
    {
        _native = NativePostgres.StartAsync("wal_level=logical"); // for the replication cases
        await _zeroPg.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await _zeroPg.DisposeAsync();
        if (_native is { IsCompletedSuccessfully: true })
            await (await _native).DisposeAsync();
    }

    /// <summary>The case run against native PostgreSQL (once per test run, shared by the tests that need it); it must pass.</summary>
    public async Task<ExternalTool.Result> RunOnPostgresAsync(DriverProgram program, string @case, ITestOutputHelper output)
    {
        var native = await Native;
        var result = await _nativeRuns.GetOrAdd((program.Name, @case),
            _ => new Lazy<Task<ExternalTool.Result>>(() => program.RunAsync(native.Url(), @case))).Value;
        output.WriteLine($"--- {program} {@case} on PostgreSQL 15 (exit {result.ExitCode})\n{result.All}");
        Assert.True(result.ExitCode == 0, $"{program} {@case} fails on native PostgreSQL 15, so the script is wrong:\n{result.All}");
        return result;
    }

    /// <summary>The case run against ZeroPg: it must pass and print exactly what it printed against PostgreSQL.</summary>
    public async Task AssertSameAsPostgresAsync(DriverProgram program, string @case, ITestOutputHelper output)
    {
        var expected = await RunOnPostgresAsync(program, @case, output);
        var actual = await program.RunAsync(ZeroPg.Url, @case);
        output.WriteLine($"--- {program} {@case} on ZeroPg (exit {actual.ExitCode})\n{actual.All}");
        Assert.True(actual.ExitCode == 0, $"{program} {@case} fails on ZeroPg:\n{actual.All}");
        Assert.Equal(expected.Stdout, actual.Stdout);
    }
}

[CollectionDefinition(Name)]
public sealed class DriverCollection : ICollectionFixture<DriverFixture>
{
    public const string Name = "drivers";
}
