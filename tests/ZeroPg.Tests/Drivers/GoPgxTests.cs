using Xunit.Abstractions;

namespace ZeroPg.Tests.Drivers;

/// <summary>
/// Go pgx v4 (Debian golang-github-jackc-pgx-v4-dev): tests/drivers/go/main.go, compiled once per run. Besides the
/// common cases it runs issue 11 item 3's namespace cases through pgconn (raw Describe/Close/Parse where pgx has no
/// call), so PostgreSQL 15's replies to them are checked in every run.
/// </summary>
[Collection(DriverCollection.Name)]
public sealed class GoPgxTests(DriverFixture fixture, ITestOutputHelper output)
{
    private static DriverProgram Program => DriverPrograms.GoPgx;

    /// <summary>The script's cases: each runs on native PostgreSQL, and on ZeroPg compared with it.</summary>
    public static TheoryData<string> Cases => new() { "prepare", "txerror", "copy", "notify", "types", "evict", "deallocate-parse-made", "execute-parse-made", "bind-prepare-made", "prepared-statements", "advisory-lock-column", "describe-prepare-made", "close-prepare-made", "prepare-of-parse-made", "parse-of-prepare-made", "deallocate-unknown", "deallocate-all" };

    [Theory]
    [MemberData(nameof(Cases))]
    public Task Passes_on_postgres(string @case) => fixture.RunOnPostgresAsync(Program, @case, output);

    [Theory]
    [MemberData(nameof(Cases))]
    public Task Same_on_zeropg(string @case) => fixture.AssertSameAsPostgresAsync(Program, @case, output);
}
