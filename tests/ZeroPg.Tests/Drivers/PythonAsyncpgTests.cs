using Xunit.Abstractions;

namespace ZeroPg.Tests.Drivers;

/// <summary>Python asyncpg (Debian python3-asyncpg): tests/drivers/python/asyncpg_driver.py.</summary>
[Collection(DriverCollection.Name)]
public sealed class PythonAsyncpgTests(DriverFixture fixture, ITestOutputHelper output)
{
    private static DriverProgram Program => DriverPrograms.PythonAsyncpg;

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
