namespace ZeroPg.Sql;

/// <summary>
/// Paths of PGlite's emulated devices (/dev/random, /dev/tty, ...) named in SQL that reads or writes server files.
/// Reading /dev/random blocks the engine forever (measured: COPY FROM '/dev/random' WITH (FORMAT binary),
/// pg_read_binary_file('/dev/random', 0, 10), lo_import('/dev/random') never answer, and nobody is served again),
/// and no device of the WebAssembly file system is of use to a client, so ZeroPg refuses them all.
/// </summary>
internal static class DeviceFiles
{
    /// <summary>PGlite's working directory (its data directory): where a relative path starts.</summary>
    private const string EngineWorkingDirectory = "/pglite/data";

    /// <summary>Functions whose string arguments name a server file.</summary>
    public static readonly KeywordSet FileFunctions = new("PG_READ_FILE", "PG_READ_BINARY_FILE", "LO_IMPORT", "LO_EXPORT", "PG_STAT_FILE", "PG_LS_DIR");

    /// <summary>The value of a string-constant token names a device, once resolved as the engine would resolve it.</summary>
    public static bool IsDevice(string sql, SqlToken token)
    {
        if (token.Kind is not (SqlTokenKind.String or SqlTokenKind.DollarString))
            return false;
        var text = token.Text(sql);
        if (token.Kind == SqlTokenKind.String)
        {
            var open = text.IndexOf('\'', StringComparison.Ordinal);
            var close = text.LastIndexOf('\'');
            if (open < 0 || close <= open)
                return false;
            // Escapes (E'\x2f...') are dropped rather than decoded: "/dev" written with escapes is still refused below by its letters.
            text = text[(open + 1)..close].Replace("''", "'", StringComparison.Ordinal).Replace("\\", "", StringComparison.Ordinal);
        }
        else
        {
            var tagEnd = text.IndexOf('$', 1);
            if (tagEnd < 0 || text.Length < 2 * (tagEnd + 1))
                return false;
            text = text[(tagEnd + 1)..(text.Length - tagEnd - 1)];
        }
        return Resolve(text) is "/dev" || Resolve(text).StartsWith("/dev/", StringComparison.Ordinal);
    }

    /// <summary>The absolute path with "." and ".." applied and repeated slashes folded, as a POSIX kernel walks it.</summary>
    private static string Resolve(string path)
    {
        var full = path.StartsWith('/') ? path : EngineWorkingDirectory + "/" + path;
        var parts = new List<string>();
        foreach (var part in full.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == ".")
                continue;
            if (part == "..")
            {
                if (parts.Count > 0)
                    parts.RemoveAt(parts.Count - 1);
                continue;
            }
            parts.Add(part);
        }
        return "/" + string.Join('/', parts);
    }
}
