using Xunit.Abstractions;

namespace ZeroPg.Tests.Drivers;

/// <summary>Python psycopg 3 with server-side prepares (Debian python3-psycopg): tests/drivers/python/psycopg_driver.py.</summary>
[Collection(DriverCollection.Name)]
public sealed class PythonPsycopgTests(DriverFixture fixture, ITestOutputHelper output)
{
    private static DriverProgram Program => DriverPrograms.PythonPsycopg;

    /// <summary>The script's cases: each runs on native PostgreSQL, and on ZeroPg compared with it.</summary>
    public static TheoryData<string> Cases => new() { "prepare", "txerror", "copy", "notify", "types", "evict", "cursors" };

    [Theory]
    [MemberData(nameof(Cases))]
    public Task Passes_on_postgres(string @case) => fixture.RunOnPostgresAsync(Program, @case, output);

    [Theory]
    [MemberData(nameof(Cases))]
    public Task Same_on_zeropg(string @case) => fixture.AssertSameAsPostgresAsync(Program, @case, output);
}
