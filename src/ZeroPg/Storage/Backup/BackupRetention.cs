using Microsoft.Extensions.Logging;
using ZeroPg.Storage.Backup.Stores;
using ZeroPg.Storage.Backup.Wal;

namespace ZeroPg.Storage.Backup;

/// <summary>
/// Keeps the newest N complete base backups and the WAL they need (from the oldest kept one's start
/// on); deletes older base backups, WAL before that point or of older writers, incomplete base
/// backups and objects of writers that lost their lease, and old leases. Run by the lease holder
/// after each base backup.
/// </summary>
internal static partial class BackupRetention
{
    public static async Task ApplyAsync(IBackupStore store, BackupLease lease, int retain, ILogger logger, CancellationToken cancellationToken)
    {
        if (lease.Lost)
            return;
        var catalog = await BackupCatalog.LoadAsync(store, cancellationToken);
        var complete = catalog.Bases.Where(b => catalog.Plan(b).End >= b.Stop).ToList();
        if (complete.Count == 0)
            return;
        var kept = complete.Skip(Math.Max(0, complete.Count - retain)).ToList();
        var oldest = kept[0];
        var keepFrom = WalGeometry.PageStart(oldest.Start);
        bool Older(long generation, Lsn at) => generation < oldest.Generation || (generation == oldest.Generation && at < keepFrom);

        var delete = new List<string>();
        foreach (var b in catalog.Bases.Where(b => !kept.Contains(b) && Older(b.Generation, b.Start)))
            delete.AddRange([b.DataKey, b.Directory + BackupKeys.BaseManifest]);
        delete.AddRange(catalog.Wal.Where(w => w.Generation < oldest.Generation || w.End <= keepFrom).Select(w => w.Key));
        delete.AddRange(catalog.Meta.Where(m => Older(m.Generation, m.At)).Select(m => m.Key));
        foreach (var stray in catalog.Strays)
        {
            // Incomplete base backups and foreign WAL of generations up to ours: never going to be used.
            // (A base backup of the current generation in progress is not listed as complete yet: keep.)
            if (BackupKeys.TryParseBase(stray.Key, out var start, out var generation, out _, out _))
            {
                if (generation < lease.Generation || (generation == lease.Generation && start < kept[^1].Start))
                    delete.Add(stray.Key);
            }
            else if (BackupKeys.TryParseWal(stray.Key, out _, out _, out var walGeneration, out _) && walGeneration <= lease.Generation)
            {
                delete.Add(stray.Key);
            }
        }
        foreach (var generation in catalog.Leases.Keys.Where(g => g < oldest.Generation && g < lease.Generation))
            delete.Add(BackupKeys.Lease(generation));
        if (delete.Count == 0)
            return;
        await store.DeleteAsync(delete, cancellationToken);
        Log.Deleted(logger, store.Location, delete.Count, kept.Count, oldest.Directory);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "backup {Location}: retention deleted {Count} objects; {Kept} base backups kept, the oldest {Oldest}")]
        public static partial void Deleted(ILogger logger, string location, int count, int kept, string oldest);
    }
}
