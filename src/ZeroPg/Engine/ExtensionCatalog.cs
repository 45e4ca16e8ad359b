namespace ZeroPg.Engine;

/// <summary>The PGlite extensions installed next to the engine host: the contrib modules and pgvector.</summary>
internal static class ExtensionCatalog
{
    public static IReadOnlyList<string> Available(string engineHostScript)
    {
        var modules = Path.Combine(Path.GetDirectoryName(engineHostScript)!, "node_modules", "@electric-sql");
        var names = new List<string>();
        var contrib = Path.Combine(modules, "pglite", "dist", "contrib");
        if (Directory.Exists(contrib))
            names.AddRange(Directory.EnumerateFiles(contrib, "*.js").Select(f => Path.GetFileNameWithoutExtension(f)!));
        if (Directory.Exists(Path.Combine(modules, "pglite-pgvector")))
            names.Add("vector");
        return [.. names.Order(StringComparer.Ordinal)];
    }

    /// <summary>Fails with the list of what is available when a name is not bundled (postgis, ...).</summary>
    public static void Validate(IEnumerable<string> requested, string engineHostScript)
    {
        var available = Available(engineHostScript);
        var missing = requested.Where(name => !available.Contains(name.Replace('-', '_'), StringComparer.Ordinal)).ToList();
        if (missing.Count > 0)
            throw new InvalidOperationException(
                $"Extension{(missing.Count > 1 ? "s" : "")} not available in PGlite: {string.Join(", ", missing)}. " +
                $"Available: {string.Join(", ", available)}.");
    }
}
