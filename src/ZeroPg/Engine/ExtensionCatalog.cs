using System.Collections.Concurrent;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text.RegularExpressions;

namespace ZeroPg.Engine;

/// <summary>An extension PGlite ships: where its files are and what its .control file says.</summary>
/// <param name="Name">The name CREATE EXTENSION takes (uuid-ossp, moddatetime, vector, ...).</param>
/// <param name="BundlePath">The .tar.gz PGlite untars into its filesystem to load it (spi.tar.gz holds several).</param>
/// <param name="StartModule">The engine host's module name that preloads the bundle at start (uuid_ossp, moddatetime, vector).</param>
/// <param name="ControlPath">The .control file's path inside the bundle (share/postgresql/extension/x.control).</param>
/// <param name="ControlText">The .control file itself, written into every new engine so pg_available_extensions lists the extension.</param>
internal sealed record BundledExtension(string Name, string BundlePath, string StartModule, IReadOnlyList<string> Requires,
    string? DefaultVersion, string? Comment, string ControlPath, string ControlText);

/// <summary>
/// The PGlite extensions installed next to the engine host: every .control file of the contrib bundles
/// (pglite/dist/*.tar.gz) and of pgvector. Read once per engine host folder.
/// </summary>
internal static partial class ExtensionCatalog
{
    private static readonly ConcurrentDictionary<string, Lazy<IReadOnlyDictionary<string, BundledExtension>>> Catalogs = new();

    /// <summary>Extensions every Postgres has without loading anything.</summary>
    public static readonly IReadOnlySet<string> BuiltIn = new HashSet<string>(StringComparer.Ordinal) { "plpgsql" };

    public static IReadOnlyDictionary<string, BundledExtension> Read(string engineHostScript)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(engineHostScript))!;
        return Catalogs.GetOrAdd(directory, d => new Lazy<IReadOnlyDictionary<string, BundledExtension>>(() => Scan(d))).Value;
    }

    /// <summary>The names CREATE EXTENSION accepts for bundled extensions, sorted.</summary>
    public static IReadOnlyList<string> Available(string engineHostScript)
        => [.. Read(engineHostScript).Keys.Order(StringComparer.Ordinal)];

    /// <summary>The catalog entry for a name; "uuid_ossp" is taken for "uuid-ossp" as --extensions always did.</summary>
    public static BundledExtension? Find(string engineHostScript, string name)
    {
        var catalog = Read(engineHostScript);
        return catalog.GetValueOrDefault(name) ?? catalog.GetValueOrDefault(name.Replace('_', '-')) ?? catalog.GetValueOrDefault(name.Replace('-', '_'));
    }

    /// <summary>The extensions with everything they require (from the .control files), dependencies first; unknown names are left out.</summary>
    public static IReadOnlyList<BundledExtension> Closure(string engineHostScript, IEnumerable<string> names)
    {
        var result = new List<BundledExtension>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        void Visit(string name)
        {
            if (Find(engineHostScript, name) is not { } extension || !seen.Add(extension.Name))
                return;
            foreach (var required in extension.Requires)
                Visit(required);
            result.Add(extension);
        }
        foreach (var name in names)
            Visit(name);
        return result;
    }

    /// <summary>Fails with the list of what is available when a name is not bundled (postgis, ...).</summary>
    public static void Validate(IEnumerable<string> requested, string engineHostScript)
    {
        var missing = requested.Where(name => !BuiltIn.Contains(name) && Find(engineHostScript, name) is null).ToList();
        if (missing.Count > 0)
            throw new InvalidOperationException(
                $"Extension{(missing.Count > 1 ? "s" : "")} not available in PGlite: {string.Join(", ", missing)}. " +
                $"Available: {string.Join(", ", Available(engineHostScript))}. An app that needs {string.Join(", ", missing)} must run on native PostgreSQL.");
    }

    /// <summary>The engine host's start-time modules that preload <paramref name="names"/> and what they require.</summary>
    public static IReadOnlyList<string> StartModules(string engineHostScript, IEnumerable<string> names)
        => [.. Closure(engineHostScript, names).Select(e => e.StartModule).Distinct(StringComparer.Ordinal)];

    /// <summary>The extension bundles next to the engine host in <paramref name="hostDirectory"/>, each with the engine host module that loads it.</summary>
    internal static List<(string Bundle, string Module)> Bundles(string hostDirectory)
    {
        var modules = Path.Combine(hostDirectory, "node_modules", "@electric-sql");
        var bundles = new List<(string Bundle, string Module)>();
        var dist = Path.Combine(modules, "pglite", "dist");
        var contrib = Path.Combine(dist, "contrib");
        if (Directory.Exists(contrib))
        {
            // contrib/<module>.js points at its bundle: new URL("../spi.tar.gz", import.meta.url)
            foreach (var script in Directory.EnumerateFiles(contrib, "*.js"))
            {
                var match = BundleReference().Match(File.ReadAllText(script));
                if (match.Success)
                    bundles.Add((Path.Combine(dist, match.Groups[1].Value + ".tar.gz"), Path.GetFileNameWithoutExtension(script)));
            }
        }
        var vector = Path.Combine(modules, "pglite-pgvector", "dist", "vector.tar.gz");
        if (File.Exists(vector))
            bundles.Add((vector, "vector"));
        return bundles;
    }

    private static Dictionary<string, BundledExtension> Scan(string hostDirectory)
    {
        var bundles = Bundles(hostDirectory);
        var catalog = new Dictionary<string, BundledExtension>(StringComparer.Ordinal);
        foreach (var (bundle, module) in bundles.OrderBy(b => b.Module, StringComparer.Ordinal))
        {
            if (!File.Exists(bundle))
                continue;
            foreach (var (name, path, text, control) in ControlFiles(bundle))
            {
                if (catalog.TryGetValue(name, out var known) && known.StartModule == name.Replace('-', '_'))
                    continue; // several modules share a bundle (spi): prefer the one named after the extension
                var requires = (control.GetValueOrDefault("requires") ?? "")
                    .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                catalog[name] = new BundledExtension(name, bundle, module, requires, control.GetValueOrDefault("default_version"),
                    control.GetValueOrDefault("comment"), path, text);
            }
        }
        return catalog;
    }

    /// <summary>
    /// The .control files of <paramref name="bundle"/>. With <paramref name="upToLibraries"/>, read only up to its first lib/
    /// entry: PGlite's bundles put share/ first, and their libraries are ~95 % of what every server start would otherwise
    /// decompress (4.6 MB, ~10 ms of a core while the engine starts; pgcrypto's alone is 3.2 MB). A test checks that this finds
    /// what reading the whole bundle finds, so a PGlite that packs them otherwise fails it.
    /// </summary>
    internal static IEnumerable<(string Name, string Path, string Text, Dictionary<string, string> Control)> ControlFiles(string bundle, bool upToLibraries = true)
    {
        using var file = File.OpenRead(bundle);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var tar = new TarReader(gzip);
        var found = new List<(string, string, string, Dictionary<string, string>)>();
        while (tar.GetNextEntry() is { } entry)
        {
            if (upToLibraries && entry.Name.TrimStart('.', '/').StartsWith("lib/", StringComparison.Ordinal))
                break;
            if (!entry.Name.EndsWith(".control", StringComparison.Ordinal) || entry.DataStream is null)
                continue;
            using var reader = new StreamReader(entry.DataStream);
            var text = reader.ReadToEnd();
            found.Add((Path.GetFileNameWithoutExtension(entry.Name), entry.Name.TrimStart('.', '/'), text, ParseControl(text)));
        }
        return found;
    }

    /// <summary>Postgres's control file syntax: <c>key = 'value'</c> or <c>key = value</c>, # comments.</summary>
    internal static Dictionary<string, string> ParseControl(string text)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#' || line.IndexOf('=') is var equals && equals < 0)
                continue;
            var value = line[(equals + 1)..].Trim();
            if (value.Length >= 2 && value[0] == '\'' && value.LastIndexOf('\'') is var close && close > 0)
                value = value[1..close].Replace("''", "'");
            values[line[..equals].Trim()] = value;
        }
        return values;
    }

    [GeneratedRegex("""new URL\("\.\./([A-Za-z0-9_.-]+)\.tar\.gz""")]
    private static partial Regex BundleReference();
}
