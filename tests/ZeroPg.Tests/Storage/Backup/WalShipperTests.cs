using Microsoft.Extensions.Logging;
using Npgsql;
using ZeroPg.Storage.Backup;
using ZeroPg.Storage.Backup.Stores;
using ZeroPg.Storage.Backup.Wal;
using ZeroPg.Tests.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Storage.Backup;

/// <summary>
/// The WAL shipper against a real engine's pg_wal (a server on a data directory) and a directory bucket whose WAL uploads a
/// test can hold, as a slow bucket (or a loaded machine) holds them.
/// </summary>
public sealed class WalShipperTests
{
    /// <summary>
    /// A commit acknowledged while an upload is under way waits no longer than a commit acknowledged at any other time: its
    /// wait counts from the start of the scan that preceded it, not from the next scan after the upload. Counted from that
    /// next scan, it waited a whole upload longer; BackupDurabilityTests' kill -9 case then found 10 of 109 commits
    /// acknowledged over --backup-interval (1 s) before the kill missing from the bucket, on a loaded CI-like machine.
    /// </summary>
    [Fact]
    public async Task A_commit_acknowledged_during_a_slow_upload_is_shipped_by_the_next_poll_once_its_half_interval_is_over()
    {
        using var directory = new TempDirectory();
        var data = directory.Sub("db");
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = data }, TestLogging.Factory);
        await using var connection = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await connection.OpenAsync();
        await connection.ExecAsync("create table t(id int primary key)");
        var start = Lsn.Parse(await connection.TextAsync("select pg_current_wal_insert_lsn()::text"));

        var logger = TestLogging.Factory.CreateLogger<WalShipperTests>();
        await using var store = new HeldWalStore(new FileBackupStore(directory.Sub("bucket"), "file://test-bucket"));
        var lease = await BackupLease.AcquireAsync(store, TimeSpan.FromSeconds(15), logger, CancellationToken.None);
        var interval = TimeSpan.FromMilliseconds(400);
        var shipper = new WalShipper(store, data, lease, new BackupOptions { Interval = interval }, new BackupMetrics(), logger);
        shipper.StartAt(start, includePage: true, timeline: 1, systemIdentifier: null);

        // Commit A, then poll until its object's upload is under way (and held).
        await connection.ExecAsync("insert into t values (1)");
        Task<bool> upload;
        while (true)
        {
            upload = shipper.PollAsync(force: false, CancellationToken.None);
            await Task.WhenAny(upload, store.Held);
            if (store.Held.IsCompleted)
                break;
            await upload;
            await Task.Delay(10);
        }

        // Commit B while that upload runs, and let the upload take longer than half the interval.
        await connection.ExecAsync("insert into t values (2)");
        var afterB = Lsn.Parse(await connection.TextAsync("select pg_current_wal_insert_lsn()::text"));
        await Task.Delay(interval * 0.75); // B's age: the point of the test, not a wait for a state
        store.Release();
        await upload;
        Assert.True(shipper.ShippedEnd < afterB, "B is not in the object uploaded");

        // B has waited 0.75 of the interval: the next poll ships it (before the fix it counted B's wait from this poll, and
        // shipped it only half an interval later).
        await shipper.PollAsync(force: false, CancellationToken.None);
        Assert.True(shipper.ShippedEnd >= afterB, $"B ({afterB}) is still not in the bucket: shipped to {shipper.ShippedEnd}, lag {shipper.Lag.TotalMilliseconds:0} ms");
        Assert.Equal(2, store.WalPuts);
    }

    /// <summary>A directory bucket whose first WAL upload waits, once it has started, until the test releases it.</summary>
    private sealed class HeldWalStore(FileBackupStore inner) : IBackupStore
    {
        private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _walPuts;

        public Task Held => _held.Task;

        public int WalPuts => Volatile.Read(ref _walPuts);

        public void Release() => _released.TrySetResult();

        public string Location => inner.Location;

        public async Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            if (key.StartsWith(BackupKeys.WalPrefix, StringComparison.Ordinal) && Interlocked.Increment(ref _walPuts) == 1)
            {
                _held.TrySetResult();
                await _released.Task.WaitAsync(cancellationToken);
            }
            await inner.PutAsync(key, data, cancellationToken);
        }

        public Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => inner.TryCreateAsync(key, data, cancellationToken);

        public Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken) => inner.GetAsync(key, cancellationToken);

        public Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken) => inner.OpenReadAsync(key, cancellationToken);

        public Task<IBackupUpload> BeginUploadAsync(string key, CancellationToken cancellationToken) => inner.BeginUploadAsync(key, cancellationToken);

        public Task<IReadOnlyList<StoredObject>> ListAsync(string prefix, CancellationToken cancellationToken) => inner.ListAsync(prefix, cancellationToken);

        public Task DeleteAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken) => inner.DeleteAsync(keys, cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
