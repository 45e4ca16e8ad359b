namespace ZeroPg.Cli;

/// <summary>
/// A --db the server cannot use is reported in one line with what to do, before the engine starts: a path that is a file,
/// below a file, or where this user may not create or write. The server would fail on it later with the bare message of
/// the file system call ("The file '...' already exists.").
/// </summary>
internal static class DataDirectoryCheck
{
    /// <summary>Null when <paramref name="path"/> is memory:// or a directory this process can create and write; else the line to print.</summary>
    public static string? Problem(string path)
    {
        if (path == ZeroPgOptions.MemoryDatabase)
            return null;
        if (File.Exists(path))
            return $"zeropg: --db {path} is a file; give a directory (created when missing), or memory:// for an in-memory database";
        try
        {
            Directory.CreateDirectory(path);
            // Opening a file is the only honest test of writing (permissions, ACLs, read-only mounts, root's exemptions).
            using var probe = new FileStream(Path.Combine(path, $".zeropg-write-probe-{Environment.ProcessId}"), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return $"zeropg: --db {path}: permission denied; give a directory this user ({Environment.UserName}) can create and write, or change its permissions";
        }
        catch (IOException) when (FileBelow(path) is { } file)
        {
            return $"zeropg: --db {path}: {file} is a file, not a directory; give a directory path, or memory:// for an in-memory database";
        }
        catch (IOException error)
        {
            return $"zeropg: --db {path} cannot be used: {error.Message}; give a directory this user can create and write, or memory://";
        }
    }

    /// <summary>The nearest existing ancestor of <paramref name="path"/> when it is a file.</summary>
    private static string? FileBelow(string path)
    {
        for (var current = Path.GetDirectoryName(Path.GetFullPath(path)); !string.IsNullOrEmpty(current); current = Path.GetDirectoryName(current))
        {
            if (File.Exists(current))
                return current;
            if (Directory.Exists(current))
                return null;
        }
        return null;
    }
}
