using ZeroPg.Storage.Backup.Stores;
using ZeroPg.Tests.Engine;

namespace ZeroPg.Tests.Storage.Backup.Stores;

public sealed class S3BackupStoreTests
{
    /// <summary>
    /// Bytes changed in the store behind its back (a disk fault, a tool writing into the bucket's files): the SDK's checksum
    /// check fails on every read, and the object is named damaged instead of the SDK's bare "Expected hash not equal to
    /// calculated hash", which the server's start reported as "The backup ... cannot be reached".
    /// </summary>
    [Fact]
    public async Task An_object_whose_stored_body_no_longer_matches_its_checksum_is_named_damaged()
    {
        using var directory = new TempDirectory();
        await using var s3 = await S3rverProcess.StartAsync(directory.Sub("s3"));
        await using var store = s3.OpenStore("db");
        await store.PutAsync("wal/000001", new byte[1000], CancellationToken.None);
        var stored = Directory.GetFiles(s3.Directory, "000001._S3rver_object", SearchOption.AllDirectories).Single();
        var bytes = await File.ReadAllBytesAsync(stored);
        bytes[500] ^= 0xFF;
        await File.WriteAllBytesAsync(stored, bytes);

        var read = await Assert.ThrowsAsync<BackupStoreException>(() => store.GetAsync("wal/000001", CancellationToken.None));
        Assert.Contains("'wal/000001'", read.Message);
        Assert.Contains("is damaged", read.Message);
        Assert.Contains("did not match the checksum", read.Message);

        await using var stream = await store.OpenReadAsync("wal/000001", CancellationToken.None);
        var streamed = await Assert.ThrowsAsync<BackupStoreException>(() => stream.CopyToAsync(Stream.Null));
        Assert.Contains("'wal/000001'", streamed.Message);
        Assert.Contains("is damaged", streamed.Message);
    }
}
