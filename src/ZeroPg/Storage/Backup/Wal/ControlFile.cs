using System.Buffers.Binary;

namespace ZeroPg.Storage.Backup.Wal;

/// <summary>The few fields of a data directory's global/pg_control that the backup needs.</summary>
internal sealed record ControlFile(ulong SystemIdentifier, Lsn Checkpoint, Lsn Redo, uint Timeline)
{
    public static string PathIn(string dataDirectory) => Path.Combine(dataDirectory, "global", "pg_control");

    /// <summary>Reads pg_control of a directory the engine does not run on (fields at fixed offsets since Postgres 9.3).</summary>
    public static ControlFile? TryRead(string dataDirectory)
    {
        var path = PathIn(dataDirectory);
        if (!File.Exists(path))
            return null;
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 56)
            return null;
        return new ControlFile(
            BinaryPrimitives.ReadUInt64LittleEndian(bytes),
            new Lsn(BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(32))),
            new Lsn(BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(40))),
            BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(48)));
    }
}
