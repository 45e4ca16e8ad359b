using System.Collections.Concurrent;

namespace ZeroPg.Storage.Backup.Stores;

/// <summary>A backup URL's parts for a store: s3://bucket/prefix gives scheme "s3", bucket and prefix.</summary>
public sealed record BackupTarget(string Url, string Scheme, string Bucket, string Prefix);

/// <summary>
/// The backup stores beyond file://, by URL scheme. ZeroPg.Server has no cloud SDK: the s3:// store lives in the
/// ZeroPg.Backups.S3 package (AWSSDK.S3), which registers itself here (S3Backups.Register(); the zeropg tool does it
/// at start), so an app or a test project that never backs up to S3 brings no AWS SDK.
/// Registered once at start, read by every backup after: a concurrent map, no other owner.
/// </summary>
public static class BackupStores
{
    private static readonly ConcurrentDictionary<string, Func<BackupTarget, BackupOptions, IBackupStore>> Openers = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Serves <paramref name="scheme"/>:// backup URLs with <paramref name="open"/> (a later registration replaces an earlier one).</summary>
    public static void Register(string scheme, Func<BackupTarget, BackupOptions, IBackupStore> open)
        => Openers[scheme] = open;

    public static bool IsRegistered(string scheme) => Openers.ContainsKey(scheme);

    internal static IBackupStore Open(BackupTarget target, BackupOptions options)
        => Openers.TryGetValue(target.Scheme, out var open) ? open(target, options) : throw NotRegistered(target.Url, target.Scheme);

    internal static ArgumentException NotRegistered(string url, string scheme) => new(
        $"The backup URL {url} needs the {scheme}:// backup store, which is not in ZeroPg.Server: add the package ZeroPg.Backups.S3 " +
        "and call ZeroPg.Backups.S3.S3Backups.Register() once before the server starts (the zeropg tool includes it), or back up to file:///path.");
}
