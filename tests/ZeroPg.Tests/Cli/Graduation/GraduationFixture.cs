using ZeroPg.Tests.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Cli.Graduation;

/// <summary>
/// A native PostgreSQL 15 server and a ZeroPg data directory holding every kind of object
/// (every-object-kind.sql, restored with `zeropg restore`), shared by the graduation tests.
/// </summary>
public sealed class GraduationFixture : IAsyncLifetime
{
    private readonly TempDirectory _temp = new("zeropg graduation ü");

    public NativePostgres Native { get; } = new();

    /// <summary>The data directory with every object kind.</summary>
    public string ObjectsDirectory => _temp.Sub("objects");

    public static string ObjectsScript => Path.Combine(RepoPaths.Root, "tests", "ZeroPg.Tests", "Cli", "Graduation", "every-object-kind.sql");

    public string Sub(string name) => _temp.Sub(name);

    public async Task InitializeAsync()
    {
        await Native.InitializeAsync();
        var restore = await ZeroPgCli.RunAsync(["restore", "--db", ObjectsDirectory, ObjectsScript]);
        Assert.True(restore.ExitCode == 0, restore.All);
    }

    public async Task DisposeAsync()
    {
        await Native.DisposeAsync();
        _temp.Dispose();
    }
}

[CollectionDefinition(Name)]
[TakesAbout(120)]
public sealed class GraduationCollection : ICollectionFixture<GraduationFixture>
{
    public const string Name = "graduation";
}
