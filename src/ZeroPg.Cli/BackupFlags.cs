using System.CommandLine;
using ZeroPg.Storage.Backup;

namespace ZeroPg.Cli;

/// <summary>The flags that say where a backup lives (shared by `serve --backup` and `zeropg backup`), and serve's backup flags.</summary>
internal sealed class BackupFlags
{
    public Option<string?> S3Endpoint { get; } = new("--s3-endpoint") { Description = "S3-compatible endpoint URL (MinIO, R2, GCS interop, s3rver); default AWS or $AWS_ENDPOINT_URL_S3 / $AWS_ENDPOINT_URL. Credentials: the standard AWS environment variables or profile" };
    public Option<bool> S3PathStyle { get; } = new("--s3-path-style") { Description = "path-style S3 requests (http://host/bucket/key), which most S3-compatible servers need" };
    public Option<string?> S3Region { get; } = new("--s3-region") { Description = "S3 region; default $AWS_REGION, the profile's, or us-east-1 with --s3-endpoint" };

    public Option<string?> Backup { get; } = new("--backup") { Description = "back the data directory up continuously to s3://bucket/prefix or file:///path, and restore from it when the directory is empty" };
    public Option<double> Interval { get; } = new("--backup-interval") { Description = "seconds within which an acknowledged commit is in the backup", DefaultValueFactory = _ => 1 };
    public Option<int> Retain { get; } = new("--backup-retain") { Description = "base backups kept (with the WAL they need)", DefaultValueFactory = _ => 2 };
    public Option<double> LeaseTtl { get; } = new("--backup-lease-ttl") { Description = "seconds after its last renewal that a dead writer's lease is taken over", DefaultValueFactory = _ => 15 };
    public Option<double> BaseAfterWal { get; } = new("--backup-base-after-mb") { Description = "take a new base backup once this many MB of WAL were shipped since the last one (restore replays at most that much)", DefaultValueFactory = _ => 1024 };
    public Option<string?> Restore { get; } = new("--restore") { Description = "newest: also replace a data directory that is older than the backup (it is moved aside)" };

    public BackupFlags()
    {
        Restore.AcceptOnlyFromAmong("newest");
    }

    /// <summary>The location flags, for `zeropg backup ...`.</summary>
    public IEnumerable<Option> LocationOptions => [S3Endpoint, S3PathStyle, S3Region];

    /// <summary>All of them, for `zeropg serve`.</summary>
    public IEnumerable<Option> ServeOptions => [Backup, Interval, Retain, BaseAfterWal, LeaseTtl, Restore, .. LocationOptions];

    public BackupOptions Location(ParseResult parse, string url) => new()
    {
        Url = url,
        S3Endpoint = parse.GetValue(S3Endpoint),
        S3ForcePathStyle = parse.GetValue(S3PathStyle),
        S3Region = parse.GetValue(S3Region),
    };

    /// <summary>Serve's backup options, or null without --backup (env ZEROPG_BACKUP also turns it on).</summary>
    public BackupOptions? ForServe(ParseResult parse)
    {
        var url = parse.GetValue(Backup) ?? Environment.GetEnvironmentVariable("ZEROPG_BACKUP");
        if (string.IsNullOrEmpty(url))
            return null;
        var options = Location(parse, url);
        options.Interval = TimeSpan.FromSeconds(parse.GetValue(Interval));
        options.Retain = parse.GetValue(Retain);
        options.LeaseTtl = TimeSpan.FromSeconds(parse.GetValue(LeaseTtl));
        options.BaseBackupWalBytes = (long)(parse.GetValue(BaseAfterWal) * 1024 * 1024);
        options.Restore = parse.GetValue(Restore) == "newest" ? BackupRestoreMode.Newest : BackupRestoreMode.IfEmpty;
        return options;
    }
}
