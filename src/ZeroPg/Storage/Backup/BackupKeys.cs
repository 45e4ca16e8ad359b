using System.Globalization;
using ZeroPg.Storage.Backup.Wal;

namespace ZeroPg.Storage.Backup;

/// <summary>
/// Object names under a backup location. Every name carries the writer's lease generation and owner
/// id, so objects of a writer that lost its lease can be told apart; positions are 16 hex digits so
/// names sort by position.
/// <code>
/// lease/0000000003.json                              the writer of generation 3 (rewritten by it only)
/// base/0000000005000028-0000000003-1a2b3c4d/data.tar.gz   a base backup's files (tar, gzip)
/// base/0000000005000028-0000000003-1a2b3c4d/manifest.json written last: the base backup is complete
/// wal/0000000005000000-0000000005000170-0000000003-1a2b3c4d   WAL bytes [start, end)
/// meta/0000000005000170-0000000003-1a2b3c4d.json      the extensions the database needs, when they changed
/// </code>
/// </summary>
internal static class BackupKeys
{
    public const string LeasePrefix = "lease/";
    public const string BasePrefix = "base/";
    public const string WalPrefix = "wal/";
    public const string MetaPrefix = "meta/";
    public const string BaseData = "data.tar.gz";
    public const string BaseManifest = "manifest.json";

    public static string Lease(long generation) => $"{LeasePrefix}{generation:D10}.json";

    public static long? ParseLease(string key)
        => key.StartsWith(LeasePrefix, StringComparison.Ordinal) && key.EndsWith(".json", StringComparison.Ordinal)
           && long.TryParse(key.AsSpan(LeasePrefix.Length, key.Length - LeasePrefix.Length - 5), NumberStyles.None, CultureInfo.InvariantCulture, out var generation)
            ? generation
            : null;

    public static string BaseDirectory(Lsn start, long generation, string owner) => $"{BasePrefix}{start.ToKey()}-{generation:D10}-{owner}/";

    public static string Wal(Lsn start, Lsn end, long generation, string owner) => $"{WalPrefix}{start.ToKey()}-{end.ToKey()}-{generation:D10}-{owner}";

    public static string Meta(Lsn at, long generation, string owner) => $"{MetaPrefix}{at.ToKey()}-{generation:D10}-{owner}.json";

    /// <summary>"0000000005000028-0000000003-1a2b3c4d" of a base backup's directory.</summary>
    public static bool TryParseBase(string key, out Lsn start, out long generation, out string owner, out string file)
    {
        start = Lsn.Invalid;
        generation = 0;
        owner = file = "";
        if (!key.StartsWith(BasePrefix, StringComparison.Ordinal))
            return false;
        var slash = key.IndexOf('/', BasePrefix.Length);
        if (slash < 0)
            return false;
        file = key[(slash + 1)..];
        var parts = key[BasePrefix.Length..slash].Split('-');
        return parts.Length == 3 && Lsn.TryParse(parts[0], out start)
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out generation)
            && (owner = parts[2]).Length > 0;
    }

    public static bool TryParseWal(string key, out Lsn start, out Lsn end, out long generation, out string owner)
    {
        start = end = Lsn.Invalid;
        generation = 0;
        owner = "";
        if (!key.StartsWith(WalPrefix, StringComparison.Ordinal))
            return false;
        var parts = key[WalPrefix.Length..].Split('-');
        return parts.Length == 4 && Lsn.TryParse(parts[0], out start) && Lsn.TryParse(parts[1], out end) && end > start
            && long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out generation)
            && (owner = parts[3]).Length > 0;
    }

    public static bool TryParseMeta(string key, out Lsn at, out long generation, out string owner)
    {
        at = Lsn.Invalid;
        generation = 0;
        owner = "";
        if (!key.StartsWith(MetaPrefix, StringComparison.Ordinal) || !key.EndsWith(".json", StringComparison.Ordinal))
            return false;
        var parts = key[MetaPrefix.Length..^5].Split('-');
        return parts.Length == 3 && Lsn.TryParse(parts[0], out at)
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out generation)
            && (owner = parts[2]).Length > 0;
    }
}
