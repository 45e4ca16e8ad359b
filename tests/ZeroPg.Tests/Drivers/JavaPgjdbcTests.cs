using Xunit.Abstractions;

namespace ZeroPg.Tests.Drivers;

/// <summary>Java pgjdbc with prepareThreshold=1 (Debian libpostgresql-jdbc-java): tests/drivers/java, compiled once per run.</summary>
[Collection(DriverCollection.Name)]
[Trait("Category", "Slow")]
public sealed class JavaPgjdbcTests(DriverFixture fixture, ITestOutputHelper output)
{
    private static DriverProgram Program => DriverPrograms.JavaPgjdbc;

    [Theory]
    [InlineData("prepare")]
    [InlineData("txerror")]
    [InlineData("copy")]
    [InlineData("notify")]
    [InlineData("types")]
    [InlineData("evict")]
    public Task Passes_on_postgres(string @case) => fixture.RunOnPostgresAsync(Program, @case, output);

    [Theory]
    [InlineData("prepare")]
    [InlineData("txerror")]
    [InlineData("copy")]
    [InlineData("notify")]
    [InlineData("types")]
    [InlineData("evict")]
    public Task Same_on_zeropg(string @case) => fixture.AssertSameAsPostgresAsync(Program, @case, output);
}
