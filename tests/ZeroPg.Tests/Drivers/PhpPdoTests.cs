using Xunit.Abstractions;

namespace ZeroPg.Tests.Drivers;

/// <summary>PHP PDO pgsql with native prepares (Debian php-pgsql): tests/drivers/php/pdo.php.</summary>
[Collection(DriverCollection.Name)]
public sealed class PhpPdoTests(DriverFixture fixture, ITestOutputHelper output)
{
    private static DriverProgram Program => DriverPrograms.PhpPdo;

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
