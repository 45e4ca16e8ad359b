using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace ZeroPg.Tests.Drivers;

/// <summary>
/// Compiled driver programs (Go, Rust, Java), built once per source: the sources are copied to a temp directory named
/// by their hash (and the toolchain's version), built there, and kept, so a test run compiles each program at most
/// once and the next run on the same machine not at all. Building in a copy keeps the repository free of build output
/// (Cargo.lock, target/).
/// </summary>
public static class BuildCache
{
    private static readonly ConcurrentDictionary<string, Lazy<Task<string>>> Builds = new();

    public static string Root { get; } = Path.Combine(Path.GetTempPath(), "zeropg-drivers");

    /// <summary>The directory holding the built program; <paramref name="build"/> gets the copied sources and an empty output directory.</summary>
    public static Task<string> GetOrBuildAsync(string name, string sourceDirectory, string toolchainKey, Func<string, string, Task> build)
    {
        var key = $"{name}-{Hash(sourceDirectory, toolchainKey)}";
        return Builds.GetOrAdd(key, _ => new Lazy<Task<string>>(() => BuildAsync(key, sourceDirectory, build))).Value;
    }

    private static async Task<string> BuildAsync(string key, string sourceDirectory, Func<string, string, Task> build)
    {
        var done = Path.Combine(Root, key);
        if (File.Exists(Path.Combine(done, ".built")))
            return Path.Combine(done, "out");

        // Built aside and renamed, so a build another test run left half done is never taken for a finished one.
        var work = Path.Combine(Root, $"{key}.{Environment.ProcessId}.{Guid.NewGuid():N}");
        var source = Path.Combine(work, "src");
        var output = Path.Combine(work, "out");
        CopyDirectory(sourceDirectory, source);
        Directory.CreateDirectory(output);
        await build(source, output);
        await File.WriteAllTextAsync(Path.Combine(work, ".built"), DateTime.UtcNow.ToString("O"));
        try
        {
            Directory.Move(work, done);
        }
        catch (IOException) when (File.Exists(Path.Combine(done, ".built")))
        {
            Directory.Delete(work, recursive: true); // another run finished the same build first
        }
        return Path.Combine(done, "out");
    }

    private static string Hash(string sourceDirectory, string toolchainKey)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.UTF8.GetBytes(toolchainKey));
        foreach (var file in SourceFiles(sourceDirectory))
        {
            sha.AppendData(Encoding.UTF8.GetBytes(Path.GetRelativePath(sourceDirectory, file)));
            sha.AppendData(File.ReadAllBytes(file));
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset())[..16];
    }

    private static IEnumerable<string> SourceFiles(string directory) =>
        Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Where(f => !Path.GetRelativePath(directory, f).StartsWith("target", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in SourceFiles(from))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
