using System.Text.Json;

namespace ZeroPg.Databases;

/// <summary>
/// What ZeroPg keeps about a database under --db DIR beside its cluster, in DIR/.zeropg-databases/NAME/.zeropg-database.json:
/// the oid other databases' clients see it under (<see cref="DatabaseEntry.Oid"/>). Written atomically; a missing or
/// broken file gets a new oid at the next start.
/// </summary>
internal static class DatabaseMetadata
{
    public const string FileName = ".zeropg-database.json";

    private sealed record Content(uint Oid);

    public static uint? ReadOid(string directory)
    {
        try
        {
            return JsonSerializer.Deserialize<Content>(File.ReadAllText(Path.Combine(directory, FileName)))?.Oid is { } oid and > 0 ? oid : null;
        }
        catch (Exception error) when (error is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public static void Write(string directory, uint oid)
    {
        var path = Path.Combine(directory, FileName);
        var temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(new Content(oid)));
        File.Move(temp, path, overwrite: true);
    }
}
