using ZeroPg.Engine;

namespace ZeroPg.Tests.Engine;

/// <summary>The catalog of bundled extensions is read from the bundles' heads only; it must find what whole bundles hold.</summary>
public sealed class ExtensionCatalogTests
{
    [Fact]
    public void Reading_each_bundle_up_to_its_libraries_finds_every_control_file_the_whole_bundle_holds()
    {
        var hostDirectory = Path.GetDirectoryName(EngineHostLocator.Locate(null))!;
        var bundles = ExtensionCatalog.Bundles(hostDirectory).Select(b => b.Bundle).Distinct().ToList();
        Assert.True(bundles.Count >= 30, $"only {bundles.Count} bundles found in {hostDirectory}");
        var controlFiles = 0;
        foreach (var bundle in bundles)
        {
            var whole = ExtensionCatalog.ControlFiles(bundle, upToLibraries: false).Select(f => (f.Path, f.Text)).ToList();
            var head = ExtensionCatalog.ControlFiles(bundle).Select(f => (f.Path, f.Text)).ToList();
            Assert.Equal(whole, head);
            controlFiles += whole.Count;
        }
        Assert.True(controlFiles >= 35, $"{controlFiles} control files in {bundles.Count} bundles");
        Assert.Contains("vector", ExtensionCatalog.Available(EngineHostLocator.Locate(null)));
        Assert.Contains("pgcrypto", ExtensionCatalog.Available(EngineHostLocator.Locate(null)));
    }
}
