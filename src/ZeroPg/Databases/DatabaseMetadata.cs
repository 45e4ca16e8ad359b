using System.Text.Json;

namespace ZeroPg.Databases;

/// <summary>
/// What ZeroPg keeps about a database under --db DIR beside its cluster, in DIR/.zeropg-databases/NAME/.zeropg-database.json:
/// the oid other databases' clients see it under (<see cref="DatabaseEntry.Oid"/>) and its oid in its own cluster
/// (<see cref="DatabaseSite.EngineOid"/>). Written atomically; a missing or broken file gets a new oid at the next start.
/// </summary>
internal static class DatabaseMetadata
{
    public const string FileName = ".zeropg-database.json";

    public sealed record Content(uint Oid, uint EngineOid);

    public static Content? Read(string directory)
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(Path.Combine(directory, FileName)), Storage.StoredJson.Default.Content) is { Oid: > 0, EngineOid: > 0 } content ? content : null;
        }
        catch (Exception error) when (error is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public static void Write(string directory, uint oid, uint engineOid)
    {
        var path = Path.Combine(directory, FileName);
        var temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(new Content(oid, engineOid), Storage.StoredJson.Default.Content));
        File.Move(temp, path, overwrite: true);
    }
}
