using Xunit.Abstractions;

namespace ZeroPg.Tests.Drivers;

/// <summary>Go pgx v4 (Debian golang-github-jackc-pgx-v4-dev): tests/drivers/go/main.go, compiled once per run.</summary>
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
    public Task Passes_on_postgres(string @case) => fixture.RunOnPostgresAsync(Program, @case, output);

    [Theory]
    [InlineData("prepare")]
    [InlineData("txerror")]
    [InlineData("copy")]
    [InlineData("notify")]
    [InlineData("types")]
    [InlineData("evict", Skip = ZeroPgGaps.PgxEviction)]
    [InlineData("deallocate-parse-made", Skip = ZeroPgGaps.DeallocateOfParseMade)]
    [InlineData("execute-parse-made", Skip = ZeroPgGaps.ExecuteOfParseMade)]
    [InlineData("bind-prepare-made", Skip = ZeroPgGaps.BindOfPrepareMade)]
    [InlineData("prepared-statements", Skip = ZeroPgGaps.PreparedStatementsView)]
    [InlineData("advisory-lock-column", Skip = ZeroPgGaps.NamedAdvisoryLockStatement)]
    public Task Same_on_zeropg(string @case) => fixture.AssertSameAsPostgresAsync(Program, @case, output);
}
