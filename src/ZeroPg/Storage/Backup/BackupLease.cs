using System.Diagnostics;
using Microsoft.Extensions.Logging;
using ZeroPg.Storage.Backup.Stores;

namespace ZeroPg.Storage.Backup;

/// <summary>
/// Makes sure one server at a time writes to a backup location. Each writer creates the next
/// generation's lease object (create-only: S3 If-None-Match, O_EXCL on a directory) and renews it
/// every TTL/3; every object it writes carries its generation and owner id. A newcomer that finds a
/// lease neither released nor stale watches it: if its renewal counter moves, the holder is alive and
/// the newcomer refuses; if it stands still for a TTL, the holder died and the newcomer takes over
/// (at once when the holder was a process on this host that no longer runs; the newcomer refuses at
/// once when it is one that surely still runs, <see cref="HolderProcess"/>). A holder that finds a
/// newer generation at a renewal has been taken over and stops writing.
/// </summary>
internal sealed partial class BackupLease
{
    // Leases held by servers in this process: a lease naming this process's pid is alive only if listed.
    private static readonly HashSet<string> s_heldHere = [];

    private readonly IBackupStore _store;
    private readonly TimeSpan _ttl;
    private readonly ILogger _logger;
    private LeaseRecord _record;

    private BackupLease(IBackupStore store, LeaseRecord record, TimeSpan ttl, ILogger logger)
    {
        _store = store;
        _record = record;
        _ttl = ttl;
        _logger = logger;
    }

    public long Generation => _record.Generation;

    public string Owner => _record.Owner;

    /// <summary>Another server took over (a newer generation exists): this one must not write any more.</summary>
    public bool Lost { get; private set; }

    public static async Task<BackupLease> AcquireAsync(IBackupStore store, TimeSpan ttl, ILogger logger, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var (newest, record) = await ReadNewestAsync(store, cancellationToken);
            if (record is not null && !record.Released && !await HolderGoneAsync(store, newest, record, ttl, logger, cancellationToken))
                throw new BackupLeaseHeldException(store.Location, record);

            var mine = new LeaseRecord
            {
                Generation = newest + 1,
                Owner = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray().AsSpan(0, 4)),
                Host = Environment.MachineName,
                Pid = Environment.ProcessId,
                Process = HolderProcess.Current,
                StartedAt = DateTimeOffset.UtcNow,
                RenewedAt = DateTimeOffset.UtcNow,
                TtlSeconds = ttl.TotalSeconds,
            };
            if (await store.TryCreateAsync(BackupKeys.Lease(mine.Generation), BackupJson.Write(mine), cancellationToken))
            {
                // A store without conditional writes accepted the create even if another server made
                // the same generation at the same moment: the last writer's record stands. Read back.
                await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
                var stored = BackupJson.TryRead<LeaseRecord>(await store.GetAsync(BackupKeys.Lease(mine.Generation), cancellationToken));
                if (stored?.Owner == mine.Owner)
                {
                    lock (s_heldHere)
                        s_heldHere.Add(mine.Owner);
                    Log.Acquired(logger, store.Location, mine.Generation, mine.Owner);
                    return new BackupLease(store, mine, ttl, logger);
                }
            }
            if (attempt >= 2)
                throw new InvalidOperationException($"Could not take the lease of the backup at {store.Location}: another server took generation {newest + 1} at the same moment.");
        }
    }

    private static async Task<(long Newest, LeaseRecord? Record)> ReadNewestAsync(IBackupStore store, CancellationToken cancellationToken)
    {
        var generations = (await store.ListAsync(BackupKeys.LeasePrefix, cancellationToken))
            .Select(o => BackupKeys.ParseLease(o.Key)).OfType<long>().OrderDescending().ToList();
        if (generations.Count == 0)
            return (0, null);
        var record = BackupJson.TryRead<LeaseRecord>(await store.GetAsync(BackupKeys.Lease(generations[0]), cancellationToken));
        // An unreadable lease (cut short on a mounted bucket) counts as held by someone unknown until it goes stale.
        return (generations[0], record ?? new LeaseRecord { Generation = generations[0], Owner = "unknown", RenewedAt = DateTimeOffset.UtcNow, TtlSeconds = 0 });
    }

    /// <summary>True when the holder of <paramref name="record"/> is gone: released, stale, or not renewing for a TTL.</summary>
    private static async Task<bool> HolderGoneAsync(IBackupStore store, long generation, LeaseRecord record, TimeSpan ttl, ILogger logger, CancellationToken cancellationToken)
    {
        var holderTtl = record.TtlSeconds > 0 ? TimeSpan.FromSeconds(record.TtlSeconds) : ttl;
        if (string.Equals(record.Host, Environment.MachineName, StringComparison.Ordinal))
        {
            if (!ProcessRuns(record.Pid, record.Owner))
            {
                Log.TakingOver(logger, store.Location, generation, record.Host, record.Pid, "its process no longer runs");
                return true;
            }
            // A writer on this machine that surely runs is refused at once: watching it renew would only make the user wait.
            if (record.Pid == Environment.ProcessId || (record.Process is not null && HolderProcess.NameOf(record.Pid) == record.Process))
            {
                Log.HolderRunsHere(logger, store.Location, generation, record.Pid);
                return false;
            }
        }
        if (DateTimeOffset.UtcNow - record.RenewedAt > 2 * holderTtl + TimeSpan.FromSeconds(30))
        {
            Log.TakingOver(logger, store.Location, generation, record.Host, record.Pid, $"not renewed since {record.RenewedAt:u}");
            return true;
        }
        Log.Watching(logger, store.Location, generation, record.Host, record.Pid, holderTtl.TotalSeconds);
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < holderTtl)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Clamp(holderTtl.TotalMilliseconds / 10, 100, 1000)), cancellationToken);
            var (newest, now) = await ReadNewestAsync(store, cancellationToken);
            if (newest != generation || now is null)
                return false; // someone else moved first
            if (now.Released)
                return true;
            if (now.Renewals != record.Renewals)
                return false; // renewed: alive
        }
        Log.TakingOver(logger, store.Location, generation, record.Host, record.Pid, $"not renewed for {holderTtl.TotalSeconds:0.#} s");
        return true;
    }

    private static bool ProcessRuns(int pid, string owner)
    {
        if (pid == Environment.ProcessId)
        {
            lock (s_heldHere)
                return s_heldHere.Contains(owner); // else our own pid from an earlier life (a restarted container)
        }
        if (Platform.Linux.ProcFs.Available)
            return HolderProcess.StartTick(pid) is not null;
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>Renews the lease, or finds that another server took over (then <see cref="Lost"/>).</summary>
    public async Task RenewAsync(CancellationToken cancellationToken)
    {
        if (Lost)
            return;
        var newer = (await _store.ListAsync(BackupKeys.LeasePrefix, cancellationToken))
            .Select(o => BackupKeys.ParseLease(o.Key)).OfType<long>().Where(g => g > Generation).ToList();
        var stored = BackupJson.TryRead<LeaseRecord>(await _store.GetAsync(BackupKeys.Lease(Generation), cancellationToken));
        if (newer.Count > 0 || (stored is not null && stored.Owner != Owner))
        {
            Lost = true;
            Log.Lost(_logger, _store.Location, Generation, newer.Count > 0 ? newer.Max() : Generation);
            return;
        }
        _record = _record with { Renewals = _record.Renewals + 1, RenewedAt = DateTimeOffset.UtcNow };
        await _store.PutAsync(BackupKeys.Lease(Generation), BackupJson.Write(_record), cancellationToken);
    }

    public TimeSpan RenewEvery => _ttl / 3;

    /// <summary>This process no longer renews the lease (it stops); another server takes it over after the TTL.</summary>
    public void Abandon()
    {
        lock (s_heldHere)
            s_heldHere.Remove(Owner);
    }

    /// <summary>A graceful stop: the next server may take over at once.</summary>
    public async Task ReleaseAsync(string? endLsn, CancellationToken cancellationToken)
    {
        lock (s_heldHere)
            s_heldHere.Remove(Owner);
        if (Lost)
            return;
        _record = _record with { Released = true, RenewedAt = DateTimeOffset.UtcNow, EndLsn = endLsn };
        await _store.PutAsync(BackupKeys.Lease(Generation), BackupJson.Write(_record), cancellationToken);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "backup {Location}: lease generation {Generation} taken (owner {Owner})")]
        public static partial void Acquired(ILogger logger, string location, long generation, string owner);

        [LoggerMessage(Level = LogLevel.Information, Message = "backup {Location}: lease generation {Generation} is held by {Host} pid {Pid}; watching it for {Seconds} s to see whether it still renews")]
        public static partial void Watching(ILogger logger, string location, long generation, string host, int pid, double seconds);

        [LoggerMessage(Level = LogLevel.Information, Message = "backup {Location}: lease generation {Generation} is held by pid {Pid}, which runs on this machine")]
        public static partial void HolderRunsHere(ILogger logger, string location, long generation, int pid);

        [LoggerMessage(Level = LogLevel.Warning, Message = "backup {Location}: taking over lease generation {Generation} of {Host} pid {Pid}: {Reason}")]
        public static partial void TakingOver(ILogger logger, string location, long generation, string host, int pid, string reason);

        [LoggerMessage(Level = LogLevel.Error, Message = "backup {Location}: another server took over (lease generation {Newer} after ours, {Generation}); this server stops writing to the backup")]
        public static partial void Lost(ILogger logger, string location, long generation, long newer);
    }
}

/// <summary>Another server writes to the backup location.</summary>
internal sealed class BackupLeaseHeldException(string location, LeaseRecord holder) : InvalidOperationException(
    $"The backup at {location} is being written by another ZeroPg server ({holder.Host}, pid {holder.Pid}, lease generation {holder.Generation}, renewed {holder.RenewedAt:u}). " +
    $"Two writers would corrupt it: stop that server first (a server that died is taken over {holder.TtlSeconds:0.#} s after its last renewal).")
{
    public LeaseRecord Holder { get; } = holder;
}
