using System.Text.Json;

namespace ZeroPg.Storage;

/// <summary>
/// What ZeroPg remembers about a data directory in ".zeropg.json": the extensions it was opened
/// with. PGlite must preload every extension a directory uses on each open, or reading its objects
/// fails with 58P01, so the set only grows and is always preloaded.
/// </summary>
internal static class DataDirectoryManifest
{
    public const string FileName = ".zeropg.json";

    public static IReadOnlyList<string> MergeExtensions(string directory, IEnumerable<string> requested)
    {
        var path = Path.Combine(directory, FileName);
        var remembered = Read(path);
        var merged = remembered.Concat(requested).Distinct(StringComparer.Ordinal).ToList();
        if (merged.Count != remembered.Count || !File.Exists(path))
            Write(path, merged);
        return merged;
    }

    private static List<string> Read(string path)
    {
        if (!File.Exists(path))
            return [];
        try
        {
            var manifest = JsonSerializer.Deserialize(File.ReadAllBytes(path), StoredJson.Default.Manifest);
            return manifest?.Extensions ?? [];
        }
        catch (JsonException error)
        {
            throw new InvalidOperationException($"{path} is not valid JSON ({error.Message}); fix or delete it (it lists the extensions this directory needs).", error);
        }
    }

    private static void Write(string path, List<string> extensions)
    {
        var temp = path + ".tmp";
        File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(new Manifest { Extensions = extensions }, StoredJson.Default.Manifest));
        File.Move(temp, path, overwrite: true);
    }

    internal sealed class Manifest
    {
        [System.Text.Json.Serialization.JsonPropertyName("extensions")]
        public List<string> Extensions { get; set; } = [];
    }
}
