using System.Diagnostics;
using Xunit.Abstractions;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Packaging;

/// <summary>
/// The RID-specific tool packages other than linux-x64's (which <see cref="PackagesTests"/> packs, installs and runs): each carries
/// the Node npm has for its own RID and no other; osx-arm64 and the `any` fallback carry none (Node on PATH runs the engine there).
/// Without ReadyToRun, which would publish each RID once more (the arm64 smoke suite checks ReadyToRun for another CPU).
/// </summary>
public sealed class ToolPackageTests(ITestOutputHelper output)
{
    [Fact]
    [Trait("Category", "Slow")]
    public async Task Each_runtime_identifier_s_tool_package_carries_only_its_own_node()
    {
        using var work = new Engine.TempDirectory();
        var version = RepositoryBuilds.Version;
        var clock = Stopwatch.StartNew();
        var result = await RepositoryBuilds.OneAtATimeAsync(() => ExternalTool.RunAsync("dotnet", ["pack", Path.Combine(RepoPaths.Root, "src", "ZeroPg.Cli",
            "ZeroPg.Cli.csproj"), "-c", "Release", "-o", work.Path, .. RepositoryBuilds.SharedProperties, "-p:ZeroPgToolRids=\"linux-arm64;win-x64;osx-arm64;any\"",
            "-p:ZeroPgReadyToRun=false", "-nologo"], timeout: TimeSpan.FromMinutes(20)));
        output.WriteLine($"dotnet pack (4 RIDs): {clock.Elapsed.TotalSeconds:0} s");
        Assert.True(result.ExitCode == 0, $"the pack failed ({result.ExitCode}): {result.All}");

        Assert.Equal(["linux-arm64", "win-x64", "osx-arm64", "any"], ToolPackages.PointedRids(work.Path, version));
        string?[][] expected = [["linux-arm64", "linux-arm64/bin/node"], ["win-x64", "win-x64/bin/node.exe"], ["osx-arm64"], ["any"]];
        foreach (var rid in expected)
        {
            var nodes = ToolPackages.CarriedNodes(work.Path, version, rid[0]!, out var bytes);
            output.WriteLine($"zeropg.{rid[0]}: {bytes:N0} bytes, Node: {string.Join(", ", nodes)}");
            Assert.Equal(rid.Skip(1), nodes);
        }
    }
}
