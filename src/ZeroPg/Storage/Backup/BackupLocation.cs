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

    public IBackupStore Open(BackupOptions options)
        => Bucket is not null
            ? new S3BackupStore(Bucket, Prefix, Url, options)
            : new FileBackupStore(Directory!, Url);
}
