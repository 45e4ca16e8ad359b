using System.Text.Json;
using System.Text.Json.Serialization;
using ZeroPg.Storage.Backup.Wal;

namespace ZeroPg.Storage.Backup;

/// <summary>
/// ".zeropg.backup.json" in a data directory: which backup it belongs to and the lease generation that
/// last wrote to that backup from here. At start it tells a directory that is the backup's latest
/// writer (continue) from one that another server has since moved past (refuse: it would diverge).
/// </summary>
internal sealed record DirectoryMarker
{
    public const string FileName = ".zeropg.backup.json";

    [JsonPropertyName("url")] public string Url { get; init; } = "";
    [JsonPropertyName("systemIdentifier")] public ulong SystemIdentifier { get; init; }
    [JsonPropertyName("generation")] public long Generation { get; init; }
    /// <summary>Set by a point-in-time restore: the directory stops at that time, behind the backup.</summary>
    [JsonPropertyName("restoredTo")] public DateTimeOffset? RestoredTo { get; init; }
    [JsonPropertyName("endLsn")] public string? EndLsn { get; init; }

    /// <summary>
    /// The marker of a directory the server runs on: its database (from the control file), the backup
    /// and the lease generation writing to it, and, once all its WAL is shipped, where the backup ends.
    /// </summary>
    public static DirectoryMarker OfServedDirectory(string directory, string url, long generation, Lsn? end) => new()
    {
        Url = url,
        SystemIdentifier = ControlFile.TryRead(directory)?.SystemIdentifier ?? 0,
        Generation = generation,
        EndLsn = end?.ToString(),
    };

    public static DirectoryMarker? Read(string directory)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
            return null;
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), StoredJson.Default.DirectoryMarker);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public void Write(string directory)
    {
        var path = Path.Combine(directory, FileName);
        var temp = path + ".tmp";
        File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(this, StoredJson.Default.DirectoryMarker));
        File.Move(temp, path, overwrite: true);
    }
}
