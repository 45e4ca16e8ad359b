using Xunit.Abstractions;

namespace ZeroPg.Tests.Drivers;

/// <summary>
/// Rust tokio-postgres 0.7 (Debian librust-tokio-postgres-dev, built offline from /usr/share/cargo/registry):
/// tests/drivers/rust, compiled once per run (~15-40 s).
/// </summary>
[Collection(DriverCollection.Name)]
[Trait("Category", "Slow")]
public sealed class RustTokioPostgresTests(DriverFixture fixture, ITestOutputHelper output)
{
    private static DriverProgram Program => DriverPrograms.RustTokioPostgres;

    [Theory]
    [InlineData("prepare")]
    [InlineData("txerror")]
    [InlineData("copy-in")]
    [InlineData("copy-out")]
    [InlineData("notify")]
    [InlineData("types")]
    public Task Passes_on_postgres(string @case) => fixture.RunOnPostgresAsync(Program, @case, output);

    [Theory]
    [InlineData("prepare")]
    [InlineData("txerror")]
    [InlineData("copy-in")]
    [InlineData("copy-out")]
    [InlineData("notify")]
    [InlineData("types")]
    public Task Same_on_zeropg(string @case) => fixture.AssertSameAsPostgresAsync(Program, @case, output);
}
