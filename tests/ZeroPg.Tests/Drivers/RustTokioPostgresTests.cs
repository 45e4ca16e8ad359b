using Xunit.Abstractions;

namespace ZeroPg.Tests.Drivers;

/// <summary>
/// Rust tokio-postgres 0.7 (Debian librust-tokio-postgres-dev, built offline from /usr/share/cargo/registry):
/// tests/drivers/rust, compiled once per run (~15-40 s).
/// </summary>
[Collection(DriverCollection.Name)]
public sealed class RustTokioPostgresTests(DriverFixture fixture, ITestOutputHelper output)
{
    private static DriverProgram Program => DriverPrograms.RustTokioPostgres;

    /// <summary>The script's cases: each runs on native PostgreSQL, and on ZeroPg compared with it.</summary>
    public static TheoryData<string> Cases => new() { "prepare", "txerror", "copy-in", "copy-out", "notify", "types" };

    [Theory]
    [MemberData(nameof(Cases))]
    public Task Passes_on_postgres(string @case) => fixture.RunOnPostgresAsync(Program, @case, output);

    [Theory]
    [MemberData(nameof(Cases))]
    public Task Same_on_zeropg(string @case) => fixture.AssertSameAsPostgresAsync(Program, @case, output);
}
