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
