using System.Formats.Tar;

namespace ZeroPg.Storage;

/// <summary>
/// Writes a cluster's tar (a snapshot, a new database's seed) into an empty data directory before its engine opens it. PGlite
/// can load the tar itself, but through its emulated filesystem: 48 MB of small synchronous writes from WebAssembly took
/// ~1 s of a new database's ~1.3 s on disk, where this takes tens of milliseconds; the engine then opens the directory as it
/// reopens one.
/// </summary>
internal static class DataDirectoryUnpack
{
    private const UnixFileMode PrivateDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Unpacks <paramref name="tar"/> into <paramref name="directory"/>; with <paramref name="fsync"/> every file reaches the disk first (--durability fsync).</summary>
    public static void Extract(string tar, string directory, bool fsync)
    {
        var root = Path.GetFullPath(directory);
        CreateDirectory(root);
        using var file = File.OpenRead(tar);
        using var reader = new TarReader(file);
        var written = new HashSet<string>(StringComparer.Ordinal) { root };
        while (reader.GetNextEntry() is { } entry)
        {
            var relative = entry.Name.Replace('\\', '/').TrimStart('/');
            if (relative.Length == 0 || relative == "." || IsZeroPgFile(relative))
                continue;
            var path = Path.GetFullPath(Path.Combine(root, relative));
            if (!path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                throw new InvalidDataException($"{tar}: entry {entry.Name} lies outside the data directory");
            switch (entry.EntryType)
            {
                case TarEntryType.Directory:
                    CreateDirectory(path);
                    written.Add(path);
                    break;
                case TarEntryType.RegularFile or TarEntryType.V7RegularFile:
                    CreateDirectory(Path.GetDirectoryName(path)!);
                    var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, PreallocationSize = entry.Length };
                    if (!OperatingSystem.IsWindows())
                        create.UnixCreateMode = PrivateFile;
                    using (var output = new FileStream(path, create))
                    {
                        entry.DataStream?.CopyTo(output);
                        if (fsync)
                            output.Flush(flushToDisk: true);
                    }
                    written.Add(Path.GetDirectoryName(path)!);
                    break;
                default:
                    throw new InvalidDataException($"{tar}: entry {entry.Name} is a {entry.EntryType}, not a file or a directory");
            }
        }
        if (fsync)
        {
            foreach (var folder in written)
                SyncDirectory(folder);
        }
    }

    /// <summary>
    /// ZeroPg's own files at a data directory's top (".zeropg*": its manifest, lock, pid, a database's metadata): they belong to
    /// the directory, not to the cluster, so a tar carries none into another (a dump of an engine on disk holds them).
    /// </summary>
    public static bool IsZeroPgFile(string relative) => relative.StartsWith(".zeropg", StringComparison.Ordinal) && !relative.Contains('/');

    private static void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
            Directory.CreateDirectory(path);
        else
            Directory.CreateDirectory(path, PrivateDirectory); // Postgres refuses a data directory others may read
    }

    private static void SyncDirectory(string path) => Platform.HostPlatform.Current.SyncDirectory(path);
}
