using System.Net.Sockets;
using System.Text;
using ZeroPg.Tests.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Storage.Backup;

/// <summary>The test S3 keeps the promise of a real one that the backup relies on (tests/s3/server.mjs).</summary>
public sealed class S3rverProcessTests
{
    /// <summary>
    /// A server killed while it renews its lease must leave the old lease readable, as S3 does: s3rver alone
    /// left a truncated body under the old ETag, and the next server failed to start with "Expected hash not
    /// equal to calculated hash" (BackupDurabilityTests, now and then).
    /// </summary>
    [Fact]
    public async Task A_put_whose_client_goes_away_mid_body_leaves_the_old_object()
    {
        using var directory = new TempDirectory();
        await using var s3 = await S3rverProcess.StartAsync(directory.Sub("s3"));
        await using var store = s3.OpenStore("db");
        var old = Encoding.ASCII.GetBytes(new string('x', 300));
        await store.PutAsync("lease/1", old, CancellationToken.None);

        var before = StoreFiles(s3.Directory);
        using (var client = new TcpClient())
        {
            await client.ConnectAsync("127.0.0.1", s3.Port);
            var stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes(
                $"PUT /{S3rverProcess.Bucket}/db/lease/1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 300\r\n\r\n" + new string('y', 100)));
            await stream.FlushAsync();
            // The client vanishes only once s3rver has begun writing the new object (a file appeared or changed).
            await Eventually.WaitUntilAsync(() => !StoreFiles(s3.Directory).SetEquals(before),
                "s3rver began writing the PUT", TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(20));
            client.Client.LingerState = new LingerOption(true, 0); // a reset, as from a killed process
        }

        var read = await store.GetAsync("lease/1", CancellationToken.None);
        Assert.Equal(old, read);
        Assert.Equal(["lease/1"], (await store.ListAsync("", CancellationToken.None)).Select(o => o.Key));
    }

    private static HashSet<(string Path, long Length, DateTime Written)> StoreFiles(string directory)
        => [.. new DirectoryInfo(directory).EnumerateFiles("*", SearchOption.AllDirectories).Select(f => (f.FullName, f.Length, f.LastWriteTimeUtc))];
}
