using ZeroPg.Storage.Backup.Stores;

namespace ZeroPg.Backups.S3;

/// <summary>Adds s3:// backup URLs to ZeroPg.Server (which has no AWS SDK of its own).</summary>
public static class S3Backups
{
    /// <summary>Serves s3://bucket/prefix backup URLs (ZeroPgOptions.Backup, ZeroPgBackup) from now on. Call it once before a server starts.</summary>
    public static void Register()
        => BackupStores.Register("s3", (target, options) => new S3BackupStore(target.Bucket, target.Prefix, target.Url, options));
}
