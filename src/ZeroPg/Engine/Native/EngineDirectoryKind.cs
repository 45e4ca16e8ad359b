namespace ZeroPg.Engine.Native;

/// <summary>
/// Which engine made a data directory: PGlite's and a native server's are both Postgres data directories
/// but not interchangeable (other major version, PGlite's own layout), so each engine refuses the other's
/// and names the way across (<c>zeropg graduate</c>). A native directory carries <see cref="MarkerFileName"/>.
/// </summary>
internal static class EngineDirectoryKind
{
    public const string MarkerFileName = ".zeropg-native";

    public static void EnsureUsableBy(EngineKind engine, string directory)
    {
        if (!File.Exists(Path.Combine(directory, "PG_VERSION")))
            return;
        var native = File.Exists(Path.Combine(directory, MarkerFileName));
        if (engine == EngineKind.Pglite && native)
            throw new InvalidOperationException(
                $"{directory} was made by --engine postgres (native PostgreSQL {ReadVersion(directory)}); serve it with --engine postgres. " +
                "PGlite cannot open a native server's data directory.");
        if (engine == EngineKind.Postgres && !native)
            throw new InvalidOperationException(
                $"{directory} is a PGlite data directory (PostgreSQL {ReadVersion(directory)} in WebAssembly); a native server cannot open it. " +
                $"Move it with `zeropg graduate --db {directory} --to postgresql://...` (dump, restore, verify) and serve the target, or serve it without --engine postgres.");
    }

    public static void Mark(string directory) => File.WriteAllText(Path.Combine(directory, MarkerFileName), "made by zeropg serve --engine postgres\n");

    private static string ReadVersion(string directory) => File.ReadAllText(Path.Combine(directory, "PG_VERSION")).Trim();
}
