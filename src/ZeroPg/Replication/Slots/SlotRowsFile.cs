using System.Text.Json.Nodes;

namespace ZeroPg.Replication.Slots;

/// <summary>
/// A database's slots as last read from its engine (<see cref="ClusterSlots"/>), kept beside its cluster under --db DIR so that
/// pg_replication_slots lists them, and their names stay taken, while its engine is stopped (after the idle time, or before its
/// first client since the server started). Written atomically when they change; a missing or broken file reads as no slots.
/// </summary>
internal static class SlotRowsFile
{
    public const string FileName = ".zeropg-slots.json";

    public static JsonArray? Read(string directory)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(Path.Combine(directory, FileName))) as JsonArray;
        }
        catch (Exception error) when (error is IOException or System.Text.Json.JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public static void Write(string directory, JsonArray rows)
    {
        var path = Path.Combine(directory, FileName);
        var temp = path + ".tmp";
        try
        {
            File.WriteAllText(temp, rows.ToJsonString());
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            // The directory went (the database was dropped meanwhile): nothing to keep.
        }
    }
}
