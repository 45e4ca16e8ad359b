using System.Reflection;

namespace ZeroPg.Engine;

/// <summary>Finds the engine host script: an explicit path, the environment, next to the app, or the source tree it was built from.</summary>
internal static class EngineHostLocator
{
    public const string ScriptName = "host.mjs";
    public const string EnvironmentVariable = "ZEROPG_ENGINE_HOST";

    public static string Locate(string? configuredDirectory)
    {
        foreach (var directory in Candidates(configuredDirectory))
        {
            var script = Path.Combine(directory, ScriptName);
            if (File.Exists(script) && Directory.Exists(Path.Combine(directory, "node_modules", "@electric-sql", "pglite")))
                return script;
        }
        throw new InvalidOperationException(
            "The PGlite engine host was not found (engine-host/host.mjs with its node_modules). " +
            $"Build ZeroPg (its build runs `npm ci` in engine-host/), or set {EnvironmentVariable} or ZeroPgOptions.EngineHostDirectory to that folder.");
    }

    private static IEnumerable<string> Candidates(string? configuredDirectory)
    {
        if (!string.IsNullOrEmpty(configuredDirectory))
        {
            yield return configuredDirectory;
            yield break;
        }
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } fromEnvironment)
            yield return fromEnvironment;
        yield return Path.Combine(AppContext.BaseDirectory, "engine-host");
        var built = typeof(EngineHostLocator).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "ZeroPg.EngineHostDirectory")?.Value;
        if (!string.IsNullOrEmpty(built))
            yield return built;
    }
}
