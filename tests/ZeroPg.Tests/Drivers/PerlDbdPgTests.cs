using Xunit.Abstractions;

namespace ZeroPg.Tests.Drivers;

/// <summary>Perl DBD::Pg (Debian libdbd-pg-perl): tests/drivers/perl/dbdpg.pl.</summary>
[Collection(DriverCollection.Name)]
public sealed class PerlDbdPgTests(DriverFixture fixture, ITestOutputHelper output)
{
    private static DriverProgram Program => DriverPrograms.PerlDbdPg;

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
