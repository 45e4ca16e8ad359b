using Xunit.Abstractions;

namespace ZeroPg.Tests.Drivers;

/// <summary>postgres.js (npm postgres, tests/node/package-lock.json): tests/node/postgresjs.mjs.</summary>
[Collection(DriverCollection.Name)]
public sealed class PostgresJsTests(DriverFixture fixture, ITestOutputHelper output)
{
    private static DriverProgram Program => DriverPrograms.PostgresJs;

    /// <summary>The script's cases: each runs on native PostgreSQL, and on ZeroPg compared with it.</summary>
    public static TheoryData<string> Cases => new() { "prepare", "txerror", "copy", "notify", "types" };

    [Theory]
    [MemberData(nameof(Cases))]
    public Task Passes_on_postgres(string @case) => fixture.RunOnPostgresAsync(Program, @case, output);

    [Theory]
    [MemberData(nameof(Cases))]
    public Task Same_on_zeropg(string @case) => fixture.AssertSameAsPostgresAsync(Program, @case, output);
}
