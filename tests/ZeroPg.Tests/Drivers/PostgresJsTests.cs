using Xunit.Abstractions;

namespace ZeroPg.Tests.Drivers;

/// <summary>postgres.js (npm postgres, tests/node/package-lock.json): tests/node/postgresjs.mjs.</summary>
[Collection(DriverCollection.Name)]
public sealed class PostgresJsTests(DriverFixture fixture, ITestOutputHelper output)
{
    private static DriverProgram Program => DriverPrograms.PostgresJs;

    [Theory]
    [InlineData("prepare")]
    [InlineData("txerror")]
    [InlineData("copy")]
    [InlineData("notify")]
    [InlineData("types")]
    public Task Passes_on_postgres(string @case) => fixture.RunOnPostgresAsync(Program, @case, output);

    [Theory]
    [InlineData("prepare")]
    [InlineData("txerror")]
    [InlineData("copy")]
    [InlineData("notify")]
    [InlineData("types")]
    public Task Same_on_zeropg(string @case) => fixture.AssertSameAsPostgresAsync(Program, @case, output);
}
