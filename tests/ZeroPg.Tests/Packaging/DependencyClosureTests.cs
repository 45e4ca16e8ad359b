using System.Text.Json;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Packaging;

/// <summary>
/// What each package brings into a user's project: NuGet's resolved closure (obj/project.assets.json, written by the
/// restore this build ran) for every target of the project. ZeroPg.Server and the test fixtures bring no AWS SDK; the
/// tool keeps s3:// backups through ZeroPg.Backups.S3.
/// </summary>
public sealed class DependencyClosureTests
{
    [Theory]
    [InlineData("src/ZeroPg.Testing", false)]
    [InlineData("src/ZeroPg", false)]
    [InlineData("src/ZeroPg.Backups.S3", true)]
    [InlineData("src/ZeroPg.Cli", true)]
    public void Only_the_s3_package_and_the_tool_resolve_an_AWSSDK_package(string project, bool hasAws)
    {
        var assets = Path.Combine(RepoPaths.Root, project, "obj", "project.assets.json");
        Assert.True(File.Exists(assets), $"{assets} is missing: restore the solution first");
        using var document = JsonDocument.Parse(File.ReadAllBytes(assets));
        var libraries = document.RootElement.GetProperty("targets").EnumerateObject()
            .SelectMany(target => target.Value.EnumerateObject())
            .ToList();
        if (project != "src/ZeroPg")
            Assert.Contains(libraries, library => library.Name.StartsWith("ZeroPg.Server/", StringComparison.Ordinal)); // the closure is read, and holds ZeroPg.Server
        var packages = libraries
            .Where(library => library.Value.GetProperty("type").GetString() == "package")
            .Select(library => library.Name.Split('/')[0])
            .Distinct()
            .ToList();
        var aws = packages.Where(name => name.StartsWith("AWSSDK", StringComparison.OrdinalIgnoreCase)).ToList();
        if (hasAws)
            Assert.Contains("AWSSDK.S3", aws);
        else
            Assert.True(aws.Count == 0, $"{project} resolves {string.Join(", ", aws)}");
    }
}
