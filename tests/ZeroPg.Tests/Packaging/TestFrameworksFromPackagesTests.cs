using System.Diagnostics;
using System.Text.RegularExpressions;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Packaging;

/// <summary>
/// From the feed <see cref="PackagesTests"/> installs (<see cref="PackedFeed"/>): the xunit v3, NUnit and MSTest samples (samples/Testing) get their
/// first green tests from the packed feed on a machine with an empty NuGet cache (NUGET_PACKAGES and the HTTP cache both
/// new folders) and no NuGet configuration of the user's, with exactly the commands README.md and docs/install.md give:
/// <c>dotnet new nugetconfig</c>, <c>dotnet nuget add source</c>, <c>dotnet add package</c>, <c>dotnet test</c>.
/// (The README once said <c>dotnet add package --source ./feed</c>, which replaces nuget.org for that restore: with an empty
/// cache it failed with NU1101 for every dependency not in the feed.) The source tree is hidden and node unusable while
/// the tests run, as in <see cref="PackagesTests"/>. In the default run (issue 64: the samples run in CI). The xunit v3 sample runs
/// first, on an empty ZeroPg cache: its two fixtures' servers once made the machine's empty-database seed at the same time and
/// one lost its dump file (the other's rename took it), which closed the fixture's connection; DatabaseSeedsTests keeps that fixed.
/// </summary>
[TakesAbout(450)]
public sealed partial class TestFrameworksFromPackagesTests
{
    public static readonly (string Sample, string Package, int Tests)[] Samples =
    [
        ("XunitV3Tests", "ZeroPg.Testing.XunitV3", 5),
        ("NUnitTests", "ZeroPg.Testing", 5),
        ("MSTestTests", "ZeroPg.Testing", 5),
    ];

    [Fact]
    public async Task Every_test_framework_sample_passes_from_the_packages_with_an_empty_cache()
    {
        var packed = await PackedFeed.SharedAsync();
        var work = Directory.CreateTempSubdirectory("zeropg-frameworks-").FullName;
        try
        {
            await RunAsync(RepoPaths.Root, work, packed.Feed, packed.Version);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task RunAsync(string repo, string work, string feed, string version)
    {
        // One empty cache for the three: the first restore fills it from the feed and the mirror of nuget.org, as a new machine's does.
        var home = Path.Combine(work, "frameworks-home");
        var environment = new Dictionary<string, string>
        {
            ["NUGET_PACKAGES"] = Path.Combine(work, "frameworks-nuget-packages"),
            ["NUGET_HTTP_CACHE_PATH"] = Path.Combine(work, "frameworks-nuget-http-cache"),
            ["HOME"] = home, // no user-wide NuGet.Config (~/.nuget/NuGet/NuGet.Config): the project's nuget.config alone
            ["DOTNET_CLI_HOME"] = home,
            ["DOTNET_NOLOGO"] = "1",
            ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
        };
        foreach (var directory in environment.Values.Where(Path.IsPathRooted))
            Directory.CreateDirectory(directory);

        var clock = Stopwatch.StartNew();
        foreach (var (sample, package, tests) in Samples)
        {
            var project = Path.Combine(work, "frameworks", sample);
            CopyDirectory(Path.Combine(repo, "samples", "Testing", sample), project);
            foreach (var standalone in (string[])["Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props"])
                File.Copy(Path.Combine(repo, "samples", "Testing", standalone), Path.Combine(work, "frameworks", standalone), overwrite: true);

            // The documented sequence (README.md, "Packages from a local feed").
            await Run(environment, project, "dotnet", "new", "nugetconfig");
            await Run(environment, project, "dotnet", "nuget", "add", "source", feed, "--name", "zeropg-local", "--configfile", "nuget.config");
            await Run(environment, project, "dotnet", "add", "package", package, "--version", version);
            Assert.Contains($"Include=\"{package}\" Version=\"{version}\"", await File.ReadAllTextAsync(Path.Combine(project, sample + ".csproj")));

            var started = clock.Elapsed;
            var environmentPrefix = string.Join(" ", environment.Select(e => $"{e.Key}='{e.Value}'"));
            var output = await PackagesTests.RunHidden(repo, $"env {environmentPrefix} dotnet test 2>&1", project);
            Console.WriteLine($"{sample} from the packages, empty NuGet cache: dotnet test took {(clock.Elapsed - started).TotalSeconds:0.0} s (build included)");
            Assert.Matches(PassedLine(tests), output);
        }
        Assert.True(Directory.EnumerateDirectories(environment["NUGET_PACKAGES"], "zeropg.testing", SearchOption.TopDirectoryOnly).Any(),
            "the samples restored ZeroPg.Testing into the empty cache");
        Assert.False(Directory.EnumerateDirectories(environment["NUGET_PACKAGES"], "awssdk.*", SearchOption.TopDirectoryOnly).Any(),
            "a test project restored an AWS SDK package");
        Console.WriteLine($"the three framework samples, clean cache: {clock.Elapsed.TotalSeconds:0} s");
    }

    /// <summary>
    /// The summary with every test passed: VSTest's ("Passed!  - Failed: 0, Passed: 5, ...": NUnit, MSTest) or Microsoft.Testing
    /// Platform's ("Test run summary: Passed!", "total: 5", "succeeded: 5": xunit v3, which .NET 10's dotnet test runs on it).
    /// </summary>
    private static Regex PassedLine(int tests)
        => new($@"(Passed!\s+-\s+Failed:\s+0,\s+Passed:\s+{tests},)|(Test run summary: Passed![\s\S]*\btotal: {tests}\s[\s\S]*\bsucceeded: {tests}\s)");

    private static Task Run(Dictionary<string, string> environment, string directory, string program, params string[] arguments)
        => PackagesTests.Run(program, arguments, directory, environment);

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from))
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var directory in Directory.EnumerateDirectories(from).Where(d => Path.GetFileName(d) is not ("bin" or "obj")))
            CopyDirectory(directory, Path.Combine(to, Path.GetFileName(directory)));
    }
}
