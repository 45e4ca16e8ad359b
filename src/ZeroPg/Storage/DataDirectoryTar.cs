using System.Formats.Tar;

namespace ZeroPg.Storage;

/// <summary>
/// A tar of a data directory whose engine is stopped (under --db DIR, the template of CREATE DATABASE ... TEMPLATE after its
/// clean shutdown), as <see cref="DataDirectoryUnpack"/> reads it into the copy's directory. Postgres's files only: ZeroPg's
/// own (".zeropg*": the lock, the database's metadata, the start record) belong to the directory, not to the cluster, and a
/// postmaster.pid left by an engine that was killed would stop the copy's engine from opening it.
/// </summary>
internal static class DataDirectoryTar
{
    /// <summary>Writes the tar of <paramref name="directory"/> to <paramref name="path"/>, atomically (whole or absent).</summary>
    public static void Write(string directory, string path)
    {
        var temp = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var file = File.Create(temp))
            using (var writer = new TarWriter(file, TarEntryFormat.Pax))
                WriteTree(writer, Path.GetFullPath(directory), "");
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            File.Delete(temp); // nothing when it was moved
        }
    }

    private static void WriteTree(TarWriter writer, string directory, string relative)
    {
        foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos())
        {
            if (relative.Length == 0 && (DataDirectoryUnpack.IsZeroPgFile(entry.Name) || entry.Name is "postmaster.pid" or "postmaster.opts"))
                continue;
            var name = relative.Length == 0 ? entry.Name : $"{relative}/{entry.Name}";
            if (entry is DirectoryInfo folder)
            {
                writer.WriteEntry(folder.FullName, name);
                WriteTree(writer, folder.FullName, name);
            }
            else
            {
                writer.WriteEntry(entry.FullName, name);
            }
        }
    }
}
