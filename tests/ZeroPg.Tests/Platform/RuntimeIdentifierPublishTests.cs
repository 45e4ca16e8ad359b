using System.Diagnostics;
using Xunit.Abstractions;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Platform;

/// <summary>
/// The tool builds for every machine .NET developers use: `dotnet publish -r RID -c Release` with the Node it carries there,
/// for the platforms this machine cannot run (linux-x64 runs everywhere in this suite; linux-arm64 runs under qemu in
/// <see cref="LinuxArm64SmokeTests"/>). Built only: Debian's wine runs neither .NET 10 nor Node 26, and there is no macOS here.
/// Each publish is framework-dependent (the user's .NET runs it); ZeroPg.dll is RID-agnostic and compiled once for all of
/// them. Without ReadyToRun here, which doubled each publish (the linux-arm64 publish of <see cref="LinuxArm64SmokeTests"/>
/// compiles ReadyToRun code for a CPU other than this machine's, and its test checks it): this proves the app host, the
/// runtime pack and the Node of each platform, cheaply enough for the default run.
/// </summary>
[TakesAbout(130)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class RuntimeIdentifierPublishTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("win-x64", "ZeroPg.Cli.exe", "node.exe")]
    [InlineData("osx-arm64", "ZeroPg.Cli", null)] // npm has no Node 20+ for darwin-arm64: Node on PATH runs the engine there
    public Task The_tool_publishes_for_the_runtime_identifier_with_its_app_host_and_node(string rid, string appHost, string? node) =>
        PublishAsync(rid, appHost, node);

    /// <summary>macOS on Intel: the same Mach-O app host as osx-arm64's above, with npm's darwin-x64 Node; left to the Slow run.</summary>
    [Theory]
    [Trait("Category", "Slow")]
    [InlineData("osx-x64", "ZeroPg.Cli", "node")]
    public Task The_tool_publishes_for_intel_macs_with_their_node(string rid, string appHost, string? node) => PublishAsync(rid, appHost, node);

    private async Task PublishAsync(string rid, string appHost, string? node)
    {
        using var work = new Engine.TempDirectory();
        var project = Path.Combine(RepoPaths.Root, "src", "ZeroPg.Cli", "ZeroPg.Cli.csproj");
        var clock = Stopwatch.StartNew();
        var result = await RepositoryBuilds.OneAtATimeAsync(() => ExternalTool.RunAsync("dotnet", ["publish", project, "-c", "Release", "-r", rid,
            "--no-self-contained", "-p:ZeroPgBundleNode=true", "-p:ZeroPgReadyToRun=false", .. RepositoryBuilds.SharedProperties, "-o", work.Path, "-nologo"],
            timeout: TimeSpan.FromMinutes(10)));
        output.WriteLine($"dotnet publish -r {rid}: {clock.Elapsed.TotalSeconds:0} s");
        Assert.True(result.ExitCode == 0, $"the {rid} publish failed ({result.ExitCode}): {result.All}");

        var host = Path.Combine(work.Path, appHost);
        Assert.True(File.Exists(host), $"no app host {appHost}");
        var magic = new byte[4];
        await using (var file = File.OpenRead(host))
            await file.ReadExactlyAsync(magic);
        if (rid.StartsWith("win", StringComparison.Ordinal))
            Assert.Equal("MZ"u8.ToArray(), magic[..2]);
        else
            Assert.Equal(new byte[] { 0xCF, 0xFA, 0xED, 0xFE }, magic); // Mach-O 64-bit (MH_MAGIC_64, little-endian)

        var runtime = Path.Combine(work.Path, "engine-host", "runtime");
        if (node is null)
            Assert.False(Directory.Exists(runtime), "no Node is carried for " + rid);
        else
        {
            var carried = Directory.GetFiles(runtime, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(runtime, f)).ToList();
            Assert.Equal([Path.Combine(rid, "bin", node)], carried);
        }
        Assert.True(File.Exists(Path.Combine(work.Path, "engine-host", "host.mjs")));
    }
}
