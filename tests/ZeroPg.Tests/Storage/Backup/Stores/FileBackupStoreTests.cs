using ZeroPg.Storage.Backup.Stores;
using ZeroPg.Tests.Engine;

namespace ZeroPg.Tests.Storage.Backup.Stores;

public sealed class FileBackupStoreTests
{
    [Fact]
    public async Task A_reader_never_sees_an_object_half_rewritten()
    {
        using var directory = new TempDirectory();
        var store = new FileBackupStore(directory.Path, "file://" + directory.Path);
        byte[] small = [.. Enumerable.Repeat((byte)'a', 100)], large = [.. Enumerable.Repeat((byte)'b', 200_000)];
        await store.PutAsync("lease/1", small, CancellationToken.None);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        // The lease's holder renews it while another server reads it (BackupLease): a read sees one whole version.
        var writer = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
                await store.PutAsync("lease/1", i % 2 == 0 ? large : small, CancellationToken.None);
        });
        var reads = 0;
        while (!stop.IsCancellationRequested)
        {
            var read = await store.GetAsync("lease/1", CancellationToken.None);
            Assert.NotNull(read);
            Assert.True(read.AsSpan().SequenceEqual(small) || read.AsSpan().SequenceEqual(large), $"a read of {read.Length} bytes, neither version");
            reads++;
        }
        await writer;
        Assert.True(reads > 10);
        Assert.Equal(["lease/1"], (await store.ListAsync("", CancellationToken.None)).Select(o => o.Key));
    }

    [Fact]
    public async Task Try_create_refuses_an_existing_object_and_leaves_it_whole()
    {
        using var directory = new TempDirectory();
        var store = new FileBackupStore(directory.Path, "file://" + directory.Path);
        Assert.True(await store.TryCreateAsync("lease/2", "first"u8.ToArray(), CancellationToken.None));
        Assert.False(await store.TryCreateAsync("lease/2", "second"u8.ToArray(), CancellationToken.None));
        Assert.Equal("first"u8.ToArray(), await store.GetAsync("lease/2", CancellationToken.None));
        Assert.Single(Directory.GetFiles(Path.Combine(directory.Path, "lease"))); // no partial file left behind
    }
}
