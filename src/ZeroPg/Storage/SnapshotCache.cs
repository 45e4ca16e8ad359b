using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace ZeroPg.Storage;

/// <summary>
/// Tar snapshots of a freshly initialised data directory, one per PGlite version, extension set and
/// start parameters. Starting from one takes ~1 s instead of the 4-8 s initdb takes.
/// </summary>
internal sealed class SnapshotCache
{
    public const string EnvironmentVariable = "ZEROPG_CACHE_DIR";
    private const int FormatVersion = 2; // 2: written as after a clean shutdown (engine-host/clean-dump.mjs)
    // dumpDataDir of an initdb'd directory is ~40 MB; anything far smaller is a truncated file.
    private const long MinimumSnapshotBytes = 1 << 20;

    private SnapshotCache(string directory, string file)
    {
        Directory = directory;
        FilePath = file;
    }

    public string Directory { get; }

    /// <summary>Where the snapshot for this configuration lives (it may not exist yet).</summary>
    public string FilePath { get; }

    public static SnapshotCache For(string? configuredDirectory, string engineHostScript, IEnumerable<string> extensions, IEnumerable<string> startParams)
    {
        var directory = RootDirectory(configuredDirectory);
        var version = PgliteVersion(engineHostScript);
        var key = JsonSerializer.Serialize(new SnapshotKey(FormatVersion, version, extensions.Order(StringComparer.Ordinal).ToArray(), startParams.ToArray()),
            Engine.HostJson.Default.SnapshotKey);
        var hash = KeyHash(key).ToString("x12", System.Globalization.CultureInfo.InvariantCulture)[..12];
        return new SnapshotCache(Path.GetFullPath(directory), Path.Combine(Path.GetFullPath(directory), $"pglite-{version}-{hash}.tar"));
    }

    /// <summary>
    /// FNV-1a (64-bit) of the key's UTF-8: it names a file among the few configurations of one machine, nothing secret. Not
    /// SHA-256: on Linux that is OpenSSL's, and this runs at every start: loading and initializing libcrypto and libssl for
    /// it was ~4 MB of an idle server's RSS (bench/findings/memory.md).
    /// </summary>
    internal static ulong KeyHash(string key)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(key))
            hash = (hash ^ b) * 1099511628211UL;
        return hash;
    }

    /// <summary>
    /// The snapshot when it exists and looks like a whole tar, marked as just used; a broken one is deleted.
    /// </summary>
    public string? TryGet()
    {
        try
        {
            var info = new FileInfo(FilePath);
            if (!info.Exists)
                return null;
            if (info.Length >= MinimumSnapshotBytes && info.Length % 512 == 0 && HasTarMagic(FilePath))
            {
                MarkUsed();
                return FilePath;
            }
        }
        catch (IOException)
        {
        }
        Invalidate();
        return null;
    }

    /// <summary>Forgets the snapshot, e.g. because the engine could not start from it.</summary>
    public void Invalidate()
    {
        try
        {
            File.Delete(FilePath);
        }
        catch (IOException)
        {
            // Another process may be replacing it right now; it is rebuilt next time otherwise.
        }
    }

    /// <summary>Creates the cache directory; false when it cannot be written (then the cache is skipped).</summary>
    public bool EnsureDirectory()
    {
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            return true;
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Deletes other snapshots long unused or beyond the cap, and temp files of crashed writers; never throws.</summary>
    public void Prune(ILogger logger) => SnapshotCachePruner.Prune(Directory, FilePath, DateTime.UtcNow, logger);

    // Pruning goes by last use, recorded in the write time: access times are not kept on noatime mounts.
    // Touched on pick, before the engine opens the file, so another process's pruning sees it in use.
    private void MarkUsed()
    {
        try
        {
            File.SetLastWriteTimeUtc(FilePath, DateTime.UtcNow);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            // A cache shared read-only still works; its snapshots just look older than they are.
        }
    }

    private static bool HasTarMagic(string path)
    {
        Span<byte> header = stackalloc byte[512];
        using var stream = File.OpenRead(path);
        stream.ReadExactly(header);
        return header.Slice(257, 5).SequenceEqual("ustar"u8);
    }

    /// <summary>ZeroPg's cache directory: the configured one, else $ZEROPG_CACHE_DIR, $XDG_CACHE_HOME/zeropg or ~/.cache/zeropg.</summary>
    public static string RootDirectory(string? configuredDirectory) => configuredDirectory is { Length: > 0 } ? configuredDirectory : DefaultDirectory();

    private static string DefaultDirectory()
    {
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } fromEnvironment)
            return fromEnvironment;
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var root = xdg is { Length: > 0 } ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "zeropg");
    }

    private static string PgliteVersion(string engineHostScript)
    {
        var manifest = Path.Combine(Path.GetDirectoryName(engineHostScript)!, "node_modules", "@electric-sql", "pglite", "package.json");
        using var document = JsonDocument.Parse(File.ReadAllBytes(manifest));
        return document.RootElement.GetProperty("version").GetString() ?? "unknown";
    }

    /// <summary>What a snapshot depends on; its JSON's hash names the file (the same JSON as before it was a type: caches stay valid).</summary>
    internal sealed record SnapshotKey(int Format, string Version, string[] Extensions, string[] StartParams);
}
