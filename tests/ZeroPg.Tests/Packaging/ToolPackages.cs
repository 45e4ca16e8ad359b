using System.IO.Compression;
using System.Xml.Linq;

namespace ZeroPg.Tests.Packaging;

/// <summary>
/// What `dotnet pack src/ZeroPg.Cli` makes (issue 60, packages a user downloads once, for their machine): the `zeropg` pointer
/// package, whose DotnetToolSettings.xml names one package per runtime identifier and carries no implementation, and the
/// `zeropg.RID` packages, each with the Node npm has for its RID only (none for osx-arm64 and the `any` fallback).
/// </summary>
internal static class ToolPackages
{
    /// <summary>The RIDs the pointer package names, after checking it carries no implementation (no assemblies, no engine host).</summary>
    public static IReadOnlyList<string> PointedRids(string feed, string version)
    {
        using var pointer = ZipFile.OpenRead(Path.Combine(feed, $"zeropg.{version}.nupkg"));
        Assert.DoesNotContain(pointer.Entries, e => e.FullName.EndsWith(".dll", StringComparison.Ordinal) || e.FullName.Contains("engine-host/", StringComparison.Ordinal));
        var settings = pointer.Entries.Single(e => e.FullName.EndsWith("DotnetToolSettings.xml", StringComparison.Ordinal));
        using var stream = settings.Open();
        return XDocument.Load(stream).Descendants("RuntimeIdentifierPackage").Select(p => (string)p.Attribute("RuntimeIdentifier")!).ToList();
    }

    /// <summary>The Node executables zeropg.RID carries (paths under engine-host/runtime/), after checking it has the tool and its engine host.</summary>
    public static IReadOnlyList<string> CarriedNodes(string feed, string version, string rid, out long bytes)
    {
        var path = Path.Combine(feed, $"zeropg.{rid}.{version}.nupkg");
        bytes = new FileInfo(path).Length;
        using var package = ZipFile.OpenRead(path);
        Assert.Contains(package.Entries, e => e.FullName.EndsWith("/ZeroPg.Cli.dll", StringComparison.Ordinal));
        Assert.Contains(package.Entries, e => e.FullName.EndsWith("/engine-host/host.mjs", StringComparison.Ordinal));
        const string runtime = "engine-host/runtime/";
        return package.Entries.Where(e => e.FullName.Contains(runtime, StringComparison.Ordinal) && e.Length > 0)
            .Select(e => e.FullName[(e.FullName.IndexOf(runtime, StringComparison.Ordinal) + runtime.Length)..]).Order(StringComparer.Ordinal).ToList();
    }
}
