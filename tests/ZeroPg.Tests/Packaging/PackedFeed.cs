using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Packaging;

/// <summary>
/// The repository's packages, packed once per test run into one temp feed for every test that installs them
/// (<see cref="PackagesTests"/>, <see cref="TestFrameworksFromPackagesTests"/>): ZeroPg's pack compiles ReadyToRun code, which
/// under the suite's load takes minutes. Those tests are in collections of their own and run at the same time; the first
/// to ask packs, the other awaits the same pack. The feed is deleted when the test process exits.
/// </summary>
public sealed class PackedFeed
{
    private static readonly Lazy<Task<PackedFeed>> Shared = new(PackAsync);

    private readonly Lazy<Task> _aspireHosting;

    private PackedFeed(string work)
    {
        Work = work;
        _aspireHosting = new(() => RepositoryBuilds.OneAtATimeAsync(() => PackProjectAsync("ZeroPg.Aspire.Hosting")));
    }

    private string Work { get; }

    public string Feed => Path.Combine(Work, "feed");

    public string Version => RepositoryBuilds.Version;

    public static Task<PackedFeed> SharedAsync() => Shared.Value;

    private static async Task<PackedFeed> PackAsync()
    {
        var packed = new PackedFeed(Directory.CreateTempSubdirectory("zeropg-feed-").FullName);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(packed.Work, recursive: true); }
            catch (IOException) { } // a temp folder left behind is no failure of the run
        };
        await RepositoryBuilds.OneAtATimeAsync(async () =>
        {
            foreach (var project in (string[])["ZeroPg", "ZeroPg.Cli", "ZeroPg.Testing", "ZeroPg.Testing.Xunit", "ZeroPg.Testing.XunitV3"])
                await packed.PackProjectAsync(project);
        });
        return packed;
    }

    /// <summary>
    /// ZeroPg.Aspire.Hosting, into the same feed when a test asks for it: only the Slow run's Aspire test installs it (its pack
    /// took 11 s of a quiet machine's 2 cores, more under the suite's load).
    /// </summary>
    public Task AspireHostingAsync() => _aspireHosting.Value;

    // The tool for this machine only: each other RID publishes once more and fetches its Node (ToolPackageTests).
    private Task PackProjectAsync(string project) =>
        PackagesTests.Run("dotnet", ["pack", Path.Combine(RepoPaths.Root, "src", project, project + ".csproj"), "-c", "Release", "-o", Feed,
            .. RepositoryBuilds.SharedProperties, "-p:ZeroPgToolRids=linux-x64"], RepoPaths.Root, environment: null);
}
