namespace ZeroPg.Tests.Infrastructure;

/// <summary>
/// One pack or publish of the repository's own projects at a time: each writes the same src/*/obj folders (project.assets.json
/// for its runtime identifiers, the Release intermediates), and two at once overwrite each other's files. Only the build holds
/// it: what a test then does with its output (installing a package, a sample's `dotnet test`, a server under qemu) runs beside
/// everything else. (These tests once shared one xunit collection, which ran them one after another, builds and all: ~25
/// minutes under the suite's load, the whole default run's length.)
/// </summary>
public static class RepositoryBuilds
{
    private static readonly SemaphoreSlim Gate = new(1, 1);

    /// <summary>
    /// The version of every Release build of the run, a version of its own: the NuGet cache must not hand back an older
    /// package of the same version. One for all: ZeroPg.dll is compiled once for every runtime identifier, and a build with
    /// another version compiles ZeroPg, ZeroPg.Backups.S3 and the tool again (~20 s of csc on a quiet 2-core machine).
    /// </summary>
    public static string Version { get; } = $"0.0.0-ci{DateTime.UtcNow:yyyyMMddHHmmssfff}";

    /// <summary>
    /// The properties every pack and publish of the run passes, so that each reuses the others' compiles: the version, and no
    /// Roslyn analyzers (the suite's own build ran them on these sources; they tripled each compile).
    /// </summary>
    public static IEnumerable<string> SharedProperties => [$"-p:Version={Version}", "-p:RunAnalyzers=false"];

    public static async Task<T> OneAtATimeAsync<T>(Func<Task<T>> build)
    {
        await Gate.WaitAsync();
        try
        {
            return await build();
        }
        finally
        {
            Gate.Release();
        }
    }

    public static Task OneAtATimeAsync(Func<Task> build) => OneAtATimeAsync(async () =>
    {
        await build();
        return true;
    });
}
