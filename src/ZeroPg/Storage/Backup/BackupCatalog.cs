using ZeroPg.Storage.Backup.Stores;
using ZeroPg.Storage.Backup.Wal;

namespace ZeroPg.Storage.Backup;

internal sealed record BaseEntry(string Directory, Lsn Start, long Generation, string Owner, BaseManifest Manifest, long TarSize)
{
    public Lsn Stop => Lsn.Parse(Manifest.StopLsn);

    public string DataKey => Directory + BackupKeys.BaseData;
}

internal sealed record WalEntry(string Key, Lsn Start, Lsn End, long Generation, string Owner, long Size);

/// <summary>The part [From, To) of a WAL object that a restore writes.</summary>
internal sealed record ChainPiece(WalEntry Object, Lsn From, Lsn To);

/// <summary>The WAL objects that continue a base backup, in order, and where they end.</summary>
internal sealed record ChainPlan(IReadOnlyList<ChainPiece> Pieces, Lsn End)
{
    public long LastGeneration => Pieces.Count > 0 ? Pieces[^1].Object.Generation : 0;
}

/// <summary>
/// What a backup location holds, from its listing: leases, complete base backups (those with a
/// manifest), WAL objects of writers that held their lease, extension records. Plans which WAL
/// objects a restore uses: from the base backup's start, at each position the object of the highest
/// generation that covers it (a newer writer's WAL wins from its first byte on, and a restore never
/// goes back to an older writer's objects after a newer one's).
/// </summary>
internal sealed class BackupCatalog
{
    public required IReadOnlyDictionary<long, LeaseRecord?> Leases { get; init; }
    public required IReadOnlyList<BaseEntry> Bases { get; init; }
    public required IReadOnlyList<WalEntry> Wal { get; init; }
    /// <summary>Objects that are no part of a usable backup: incomplete base backups, WAL of writers that lost their lease.</summary>
    public required IReadOnlyList<StoredObject> Strays { get; init; }
    public required IReadOnlyList<(Lsn At, long Generation, string Key)> Meta { get; init; }
    public required IReadOnlyList<StoredObject> All { get; init; }

    public long NewestGeneration => Leases.Count == 0 ? 0 : Leases.Keys.Max();

    /// <summary>The newest generation that wrote WAL or a base backup.</summary>
    public long NewestDataGeneration => Math.Max(Wal.Count == 0 ? 0 : Wal.Max(w => w.Generation), Bases.Count == 0 ? 0 : Bases.Max(b => b.Generation));

    public bool IsEmpty => Bases.Count == 0;

    public static async Task<BackupCatalog> LoadAsync(IBackupStore store, CancellationToken cancellationToken)
    {
        var all = await store.ListAsync("", cancellationToken);
        var leases = new Dictionary<long, LeaseRecord?>();
        foreach (var entry in all)
        {
            if (BackupKeys.ParseLease(entry.Key) is { } generation)
                leases[generation] = BackupJson.TryRead<LeaseRecord>(await store.GetAsync(entry.Key, cancellationToken));
        }
        bool OwnedBy(long generation, string owner) => leases.TryGetValue(generation, out var lease) && lease?.Owner == owner;

        var strays = new List<StoredObject>();
        var wal = new List<WalEntry>();
        var meta = new List<(Lsn, long, string)>();
        var baseFiles = new Dictionary<string, Dictionary<string, StoredObject>>(StringComparer.Ordinal);
        foreach (var entry in all)
        {
            if (BackupKeys.TryParseWal(entry.Key, out var start, out var end, out var generation, out var owner))
            {
                if (OwnedBy(generation, owner))
                    wal.Add(new WalEntry(entry.Key, start, end, generation, owner, entry.Size));
                else
                    strays.Add(entry);
            }
            else if (BackupKeys.TryParseBase(entry.Key, out _, out _, out _, out var file))
            {
                var directory = entry.Key[..^file.Length];
                if (!baseFiles.TryGetValue(directory, out var files))
                    baseFiles[directory] = files = new Dictionary<string, StoredObject>(StringComparer.Ordinal);
                files[file] = entry;
            }
            else if (BackupKeys.TryParseMeta(entry.Key, out var at, out var metaGeneration, out var metaOwner) && OwnedBy(metaGeneration, metaOwner))
            {
                meta.Add((at, metaGeneration, entry.Key));
            }
        }

        var bases = new List<BaseEntry>();
        foreach (var (directory, files) in baseFiles)
        {
            BackupKeys.TryParseBase(directory, out var start, out var generation, out var owner, out _);
            BaseManifest? manifest = null;
            if (files.ContainsKey(BackupKeys.BaseManifest) && files.TryGetValue(BackupKeys.BaseData, out var data) && OwnedBy(generation, owner))
            {
                manifest = BackupJson.TryRead<BaseManifest>(await store.GetAsync(directory + BackupKeys.BaseManifest, cancellationToken));
                if (manifest is not null && manifest.TarBytes == data.Size && Lsn.TryParse(manifest.StopLsn, out _))
                    bases.Add(new BaseEntry(directory, start, generation, owner, manifest, data.Size));
                else
                    manifest = null;
            }
            if (manifest is null)
                strays.AddRange(files.Values);
        }
        bases.Sort((a, b) => a.Generation != b.Generation ? a.Generation.CompareTo(b.Generation) : a.Start.CompareTo(b.Start));
        wal.Sort((a, b) => a.Start != b.Start ? a.Start.CompareTo(b.Start) : a.Generation.CompareTo(b.Generation));
        return new BackupCatalog { Leases = leases, Bases = bases, Wal = wal, Strays = strays, Meta = meta, All = all };
    }

    /// <summary>The WAL objects that continue <paramref name="baseBackup"/>, as far as they reach without a gap.</summary>
    public ChainPlan Plan(BaseEntry baseBackup)
    {
        var pieces = new List<ChainPiece>();
        var position = WalGeometry.PageStart(baseBackup.Start);
        var generation = baseBackup.Generation;
        while (true)
        {
            WalEntry? pick = null;
            foreach (var entry in Covering(position))
            {
                if (entry.Generation >= generation && (pick is null || entry.Generation > pick.Generation || (entry.Generation == pick.Generation && entry.End > pick.End)))
                    pick = entry;
            }
            if (pick is null)
                break;
            var to = pick.End;
            for (var i = FirstStartingAfter(position); i < Wal.Count && Wal[i].Start < to; i++)
            {
                if (Wal[i].Generation > pick.Generation)
                    to = Wal[i].Start;
            }
            pieces.Add(new ChainPiece(pick, position, to));
            generation = pick.Generation;
            position = to;
        }
        return new ChainPlan(pieces, position);
    }

    /// <summary>The index of the first object (sorted by start) that starts after <paramref name="position"/>.</summary>
    private int FirstStartingAfter(Lsn position)
    {
        var low = 0;
        var high = Wal.Count;
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (Wal[middle].Start <= position)
                low = middle + 1;
            else
                high = middle;
        }
        return low;
    }

    private IEnumerable<WalEntry> Covering(Lsn position)
    {
        // Objects are sorted by start; one spans at most a little more than a segment.
        for (var i = FirstStartingAfter(position) - 1; i >= 0; i--)
        {
            var entry = Wal[i];
            if (entry.Start.Value + (1UL << 30) < position.Value)
                yield break;
            if (entry.End > position)
                yield return entry;
        }
    }

    /// <summary>The newest base backup whose WAL reaches its consistency point, with its plan; null if none.</summary>
    public (BaseEntry Base, ChainPlan Plan)? Newest(Func<BaseEntry, bool>? filter = null)
    {
        for (var i = Bases.Count - 1; i >= 0; i--)
        {
            var candidate = Bases[i];
            if (filter is not null && !filter(candidate))
                continue;
            var plan = Plan(candidate);
            if (plan.End >= candidate.Stop)
                return (candidate, plan);
        }
        return null;
    }

    /// <summary>The extensions the database needs at <paramref name="end"/>: the base backup's, and any recorded since.</summary>
    public async Task<List<string>> ExtensionsAsync(IBackupStore store, BaseEntry baseBackup, Lsn end, CancellationToken cancellationToken)
    {
        var extensions = new List<string>(baseBackup.Manifest.Extensions);
        foreach (var (at, generation, key) in Meta)
        {
            if (generation < baseBackup.Generation || at > end)
                continue;
            if (BackupJson.TryRead<MetaRecord>(await store.GetAsync(key, cancellationToken)) is { } record)
                extensions.AddRange(record.Extensions);
        }
        return extensions.Distinct(StringComparer.Ordinal).ToList();
    }
}
