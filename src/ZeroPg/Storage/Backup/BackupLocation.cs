using ZeroPg.Storage.Backup.Stores;

namespace ZeroPg.Storage.Backup;

/// <summary>A backup URL: s3://bucket/prefix or file:///absolute/path.</summary>
internal sealed record BackupLocation(string Url, string? Bucket, string Prefix, string? Directory)
{
    public static BackupLocation Parse(string url)
    {
        if (url.StartsWith("s3://", StringComparison.OrdinalIgnoreCase))
        {
            var rest = url[5..];
            var slash = rest.IndexOf('/');
            var bucket = slash < 0 ? rest : rest[..slash];
            var prefix = slash < 0 ? "" : rest[(slash + 1)..].Trim('/');
            if (bucket.Length == 0)
                throw new ArgumentException($"The backup URL {url} names no bucket: use s3://bucket/prefix.");
            return new BackupLocation(url, bucket, prefix, null);
        }
        if (url.StartsWith("file://", StringComparison.OrdinalIgnoreCase))
        {
            var path = Uri.UnescapeDataString(url[7..]);
            if (!path.StartsWith('/'))
                throw new ArgumentException($"The backup URL {url} must hold an absolute path: file:///path/to/dir.");
            return new BackupLocation(url, null, "", path.TrimEnd('/'));
        }
        throw new ArgumentException($"The backup URL \"{url}\" is not supported: use s3://bucket/prefix (any S3-compatible store, see --s3-endpoint) or file:///path (a directory or mounted bucket).");
    }

    /// <summary>Throws when the URL's store is not registered (s3:// without ZeroPg.Backups.S3), so a server refuses it at start.</summary>
    public void EnsureAvailable()
    {
        if (Bucket is not null && !BackupStores.IsRegistered("s3"))
            throw BackupStores.NotRegistered(Url, "s3");
    }

    public IBackupStore Open(BackupOptions options)
        => Bucket is not null
            ? BackupStores.Open(new BackupTarget(Url, "s3", Bucket, Prefix), options)
            : new FileBackupStore(Directory!, Url);
}
