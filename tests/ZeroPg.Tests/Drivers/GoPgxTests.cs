using Xunit.Abstractions;

namespace ZeroPg.Tests.Drivers;

/// <summary>
/// Go pgx v4 (Debian golang-github-jackc-pgx-v4-dev): tests/drivers/go/main.go, compiled once per run. Besides the
/// common cases it runs issue 11 item 3's namespace cases through pgconn (raw Describe/Close/Parse where pgx has no
/// call), so PostgreSQL 15's replies to them are checked in every run.
/// </summary>
[Collection(DriverCollection.Name)]
[Trait("Category", "Slow")]
public sealed class GoPgxTests(DriverFixture fixture, ITestOutputHelper output)
{
    private static DriverProgram Program => DriverPrograms.GoPgx;

    [Theory]
    [InlineData("prepare")]
    [InlineData("txerror")]
    [InlineData("copy")]
    [InlineData("notify")]
    [InlineData("types")]
    [InlineData("evict")]
    [InlineData("deallocate-parse-made")]
    [InlineData("execute-parse-made")]
    [InlineData("bind-prepare-made")]
    [InlineData("prepared-statements")]
    [InlineData("advisory-lock-column")]
    [InlineData("describe-prepare-made")]
    [InlineData("close-prepare-made")]
    [InlineData("prepare-of-parse-made")]
    [InlineData("parse-of-prepare-made")]
    [InlineData("deallocate-unknown")]
    [InlineData("deallocate-all")]
    public Task Passes_on_postgres(string @case) => fixture.RunOnPostgresAsync(Program, @case, output);

    [Theory]
    [InlineData("prepare")]
    [InlineData("txerror")]
    [InlineData("copy")]
    [InlineData("notify")]
    [InlineData("types")]
    [InlineData("evict")]
    [InlineData("deallocate-parse-made")]
    [InlineData("execute-parse-made")]
    [InlineData("bind-prepare-made")]
    [InlineData("prepared-statements")]
    [InlineData("advisory-lock-column")]
    [InlineData("describe-prepare-made")]
    [InlineData("close-prepare-made")]
    [InlineData("prepare-of-parse-made")]
    [InlineData("parse-of-prepare-made")]
    [InlineData("deallocate-unknown")]
    [InlineData("deallocate-all")]
    public Task Same_on_zeropg(string @case) => fixture.AssertSameAsPostgresAsync(Program, @case, output);
}
