namespace ZeroPg;

/// <summary>
/// A copy of one database as it was when <see cref="ZeroPgServer.SnapshotAsync"/> took it (its whole cluster: schema, data,
/// sequences, roles), which <see cref="ZeroPgServer.RestoreAsync"/> brings back while the server runs, as often as wanted.
/// It is the rows of the database's tables and its sequences' values (put back in place, in tens of ms, when a restore
/// finds the schema unchanged) and a dump of its cluster, a tar in a temporary folder (~40 MB for a small schema, most
/// of it one WAL segment), which a restore that finds the schema changed starts a new engine from (1-3 s); with
/// <see cref="ZeroPgOptions.KeepWarmEngine"/> the next such engine then waits started in the background. Disposing it
/// (or stopping the server) deletes them.
/// </summary>
public sealed class ZeroPgSnapshot : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private Storage.Snapshots.SnapshotSpare? _spare;
    private bool _disposed;

    internal ZeroPgSnapshot(string database, string filePath, Action<ZeroPgSnapshot> forget)
    {
        Database = database;
        FilePath = filePath;
        SizeBytes = new FileInfo(filePath).Length;
        _forget = forget;
    }

    private readonly Action<ZeroPgSnapshot> _forget;

    /// <summary>The database it is a copy of (and the one a restore replaces).</summary>
    public string Database { get; }

    /// <summary>The size of its tar.</summary>
    public long SizeBytes { get; }

    public DateTimeOffset TakenAt { get; } = DateTimeOffset.UtcNow;

    internal string FilePath { get; }

    /// <summary>The rows kept to put back in place when a restore finds the schema unchanged; null when every restore swaps engines.</summary>
    internal Storage.Snapshots.RowSnapshot? Rows { get; init; }

    internal bool IsDisposed
    {
        get { lock (_gate) return _disposed; }
    }

    /// <summary>The engine waiting to take over at the next restore, if there is one; it is no longer the snapshot's.</summary>
    internal Storage.Snapshots.SnapshotSpare? TakeSpare()
    {
        lock (_gate)
        {
            var spare = _spare;
            _spare = null;
            return spare;
        }
    }

    /// <summary>Keeps <paramref name="spare"/> for the next restore (stopped at once when the snapshot is gone).</summary>
    internal void KeepSpare(Storage.Snapshots.SnapshotSpare spare)
    {
        Storage.Snapshots.SnapshotSpare? stale;
        lock (_gate)
        {
            stale = _disposed ? spare : _spare;
            if (!_disposed)
                _spare = spare;
        }
        if (stale is not null)
            _ = stale.DisposeAsync().AsTask();
    }

    public async ValueTask DisposeAsync()
    {
        Storage.Snapshots.SnapshotSpare? spare;
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            spare = _spare;
            _spare = null;
        }
        _forget(this);
        if (spare is not null)
            await spare.DisposeAsync();
        File.Delete(FilePath);
    }
}
