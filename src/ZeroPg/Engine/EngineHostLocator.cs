namespace ZeroPg.Engine;

/// <summary>
/// Finds the engine host script: an explicit folder, $ZEROPG_ENGINE_HOST, or the "engine-host" folder
/// that travels with ZeroPg.dll (copied next to it by the build, the ZeroPg.Server package and the
/// zeropg tool). Never a path of the machine the assembly was built on.
/// </summary>
internal static class EngineHostLocator
{
    public const string ScriptName = "host.mjs";
    public const string FolderName = "engine-host";
    public const string EnvironmentVariable = "ZEROPG_ENGINE_HOST";

    public static string Locate(string? configuredDirectory)
    {
        var tried = new List<string>();
        foreach (var directory in Candidates(configuredDirectory))
        {
            var script = Path.Combine(directory, ScriptName);
            if (File.Exists(script) && Directory.Exists(Path.Combine(directory, "node_modules", "@electric-sql", "pglite")))
                return script;
            tried.Add(directory);
        }
        throw new InvalidOperationException(
            $"The PGlite engine host was not found (host.mjs with its node_modules; looked in {string.Join(", ", tried.Distinct())}). " +
            $"It ships in the \"{FolderName}\" folder next to ZeroPg.dll: a build or package restore copies it there. " +
            $"Set {EnvironmentVariable} or ZeroPgOptions.EngineHostDirectory to use another folder.");
    }

    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("SingleFile", "IL3000", Justification = "An empty Location is skipped; AppContext.BaseDirectory follows.")]
    internal static IEnumerable<string> Candidates(string? configuredDirectory)
    {
        if (!string.IsNullOrEmpty(configuredDirectory))
        {
            yield return configuredDirectory;
            yield break;
        }
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } fromEnvironment)
        {
            yield return fromEnvironment;
            yield break;
        }
        // Assembly.Location is empty in a single-file or native AOT app (then skipped); AppContext.BaseDirectory is the app's folder.
        if (Path.GetDirectoryName(typeof(EngineHostLocator).Assembly.Location) is { Length: > 0 } assemblyDirectory)
            yield return Path.Combine(assemblyDirectory, FolderName);
        yield return Path.Combine(AppContext.BaseDirectory, FolderName);
    }
}
