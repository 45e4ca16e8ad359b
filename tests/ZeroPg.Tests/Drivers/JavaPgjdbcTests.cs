using Xunit.Abstractions;

namespace ZeroPg.Tests.Drivers;

/// <summary>Java pgjdbc with prepareThreshold=1 (Debian libpostgresql-jdbc-java): tests/drivers/java, compiled once per run.
/// "replication" streams a pgoutput slot with pgjdbc's replication API (Debezium's), confirms, and streams it again.</summary>
[Collection(DriverCollection.Name)]
public sealed class JavaPgjdbcTests(DriverFixture fixture, ITestOutputHelper output)
{
    private static DriverProgram Program => DriverPrograms.JavaPgjdbc;

    /// <summary>The script's cases: each runs on native PostgreSQL, and on ZeroPg compared with it.</summary>
    public static TheoryData<string> Cases => new() { "prepare", "txerror", "copy", "notify", "types", "evict", "replication" };

    [Theory]
    [MemberData(nameof(Cases))]
    public Task Passes_on_postgres(string @case) => fixture.RunOnPostgresAsync(Program, @case, output);

    [Theory]
    [MemberData(nameof(Cases))]
    public Task Same_on_zeropg(string @case) => fixture.AssertSameAsPostgresAsync(Program, @case, output);
}
