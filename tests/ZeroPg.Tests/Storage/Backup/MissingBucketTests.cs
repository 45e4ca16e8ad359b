using Amazon.S3;
using Amazon.S3.Model;
using ZeroPg.Storage.Backup;
using ZeroPg.Tests.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Storage.Backup;

/// <summary>A bucket that does not exist, or is deleted while the server runs (s3rver): a clear error, not a crash.</summary>
public sealed class MissingBucketTests
{
    [Fact]
    public async Task A_bucket_that_does_not_exist_is_a_clear_error_for_serve_and_the_cli()
    {
        using var directory = new TempDirectory();
        await using var s3 = await S3rverProcess.StartAsync(directory.Sub("s3"));
        var missing = s3.Options("db", b => b.Url = "s3://no-such-bucket/db");

        var start = await Assert.ThrowsAnyAsync<Exception>(() => ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = directory.Sub("a"), Backup = missing }, TestLogging.Factory));
        Assert.Contains("'no-such-bucket'", start.Message);
        Assert.Contains("does not exist", start.Message);
        Assert.Contains("--s3-endpoint", start.Message);
        Assert.False(File.Exists(Path.Combine(directory.Sub("a"), "PG_VERSION")), "the refused server created a database");

        string[] location = ["s3://no-such-bucket/db", .. s3.CliFlags];
        foreach (var command in new[] { "list", "verify" })
        {
            var cli = await ZeroPgCli.RunAsync(s3.Environment, ["backup", command, .. location]);
            Assert.Equal(1, cli.ExitCode);
            Assert.Contains("'no-such-bucket'", cli.Stdout + cli.Stderr);
            Assert.Contains("does not exist", cli.Stdout + cli.Stderr);
            Assert.DoesNotContain("   at ", cli.Stderr); // a message, not a stack trace
        }
        var restore = await ZeroPgCli.RunAsync(s3.Environment, ["backup", "restore", .. location, "--db", directory.Sub("r")]);
        Assert.Equal(1, restore.ExitCode);
        Assert.Contains("does not exist", restore.Stderr);
        Assert.False(File.Exists(Path.Combine(directory.Sub("r"), "PG_VERSION")));
    }

    /// <summary>
    /// The bucket deleted under a running server: clients keep committing, the backup reports "behind"
    /// with the reason, nothing crashes; once the bucket exists again the WAL is shipped.
    /// </summary>
    [Fact]
    public async Task A_bucket_deleted_while_serving_is_reported_without_failing_clients()
    {
        using var directory = new TempDirectory();
        await using var s3 = await S3rverProcess.StartAsync(directory.Sub("s3"));
        var backup = s3.Options("db", b => { b.Interval = TimeSpan.FromMilliseconds(200); b.MaxLag = TimeSpan.FromSeconds(1); });
        using var client = new AmazonS3Client(S3rverProcess.AccessKey, S3rverProcess.AccessKey, new AmazonS3Config { ServiceURL = s3.Endpoint, ForcePathStyle = true, AuthenticationRegion = "us-east-1" });
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = directory.Sub("a"), Backup = backup }, TestLogging.Factory);
        await FileBackupTests.WaitForBaseBackupAsync(server);
        await using var connection = await FileBackupTests.Open(server);
        await WalScannerTests.Execute(connection, "create table t(id int primary key)");

        await DeleteBucketAsync(client);
        for (var id = 0; id < 200; id++)
            await WalScannerTests.Execute(connection, $"insert into t values ({id})");
        await Eventually.WaitUntilAsync(async () =>
        {
            if (server.Backup!.State == "behind" && server.Backup.Detail?.Contains("does not exist") == true)
                return true;
            // s3rver checks the bucket before it writes an object and creates the object's folders as it
            // writes: an upload in flight while the bucket was deleted brings the bucket back. Delete it again.
            var buckets = await client.ListBucketsAsync();
            if (buckets.Buckets?.Any(b => b.BucketName == S3rverProcess.Bucket) == true)
                await DeleteBucketAsync(client);
            return false;
        }, "the backup behind on the missing bucket", TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));
        var status = server.Backup!;
        Assert.Equal("behind", status.State);
        Assert.Contains("The bucket 'zeropg' of s3://zeropg/db does not exist", status.Detail);
        Assert.True(status.UploadFailures > 0);
        Assert.Equal(200L, await WalScannerTests.Scalar(connection, "select count(*) from t")); // clients were not failed

        await client.PutBucketAsync(S3rverProcess.Bucket);
        // Uploads retry with a backoff of up to 30 s.
        await Eventually.WaitUntilAsync(() => server.Backup!.State == "ok", "the backup caught up once the bucket is back", TimeSpan.FromSeconds(90));
        Assert.Equal("ok", server.Backup!.State);
        Assert.Equal(0, server.Backup!.LagBytes);
    }

    /// <summary>Empties and deletes the bucket; the server keeps writing (lease renewals, WAL), so emptying can race with it: retry.</summary>
    private static Task DeleteBucketAsync(AmazonS3Client client)
        => Eventually.SucceedsAsync(async () =>
        {
            var objects = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = S3rverProcess.Bucket });
            if (objects.S3Objects is { Count: > 0 } listed)
                await client.DeleteObjectsAsync(new DeleteObjectsRequest { BucketName = S3rverProcess.Bucket, Objects = listed.Select(o => new KeyVersion { Key = o.Key }).ToList() });
            return await client.DeleteBucketAsync(S3rverProcess.Bucket);
        }, error => error is AmazonS3Exception { ErrorCode: "BucketNotEmpty" });
}
