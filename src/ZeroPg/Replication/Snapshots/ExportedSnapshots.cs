using ZeroPg.Sessions;

namespace ZeroPg.Replication.Snapshots;

/// <summary>
/// The snapshots exported on one database (CREATE_REPLICATION_SLOT ... SNAPSHOT 'export') and the engine gate that lets their
/// importers in before anyone who may write. An exported snapshot is the engine's committed state when its slot was made; the
/// engine runs one transaction at a time, so an importer sees exactly that state if no transaction id was assigned since
/// (checked in the engine by the import itself: <see cref="SnapshotImport"/>). To make that likely, while a snapshot is held
/// the scheduler gives the engine only to its exporter, to transactions importing it, to units that are only transaction
/// control and settings, and to ZeroPg's login reads; ordinary units wait, keeping their place. The hold ends when the
/// exporter runs its next command or leaves (the snapshot is then gone, as in Postgres), or when the engine has been free of
/// admitted work for <see cref="ZeroPgOptions.ExportedSnapshotHold"/> (the snapshot stays importable until someone writes).
/// Owned by the database's <see cref="SessionServices"/>; its lock owns every snapshot's state. Lock order: the scheduler's,
/// then this one (the gate is called under the scheduler's lock, so the scheduler is only called outside this one).
/// </summary>
internal sealed class ExportedSnapshots : IEngineGate, IDisposable
{
    private readonly object _lock = new();
    private readonly EngineScheduler _scheduler;
    private readonly TimeSpan _hold;
    private readonly Dictionary<string, ExportedSnapshot> _byName = new(StringComparer.Ordinal);
    private readonly Timer _timer;
    private int _counter;

    public ExportedSnapshots(EngineScheduler scheduler, TimeSpan hold)
    {
        _scheduler = scheduler;
        _hold = hold;
        _timer = new Timer(_ => OnTimer());
    }

    /// <summary>Registers the snapshot of a slot being made: from now on only <paramref name="exporter"/> gets the engine once it is free.</summary>
    public ExportedSnapshot Begin(object exporter, int processId, string slot)
    {
        ExportedSnapshot snapshot;
        lock (_lock)
        {
            // Postgres's names are "%08X-%08X-%d" (backend, local transaction, count): clients may check the shape.
            snapshot = new ExportedSnapshot($"{processId:X8}-{++_counter:X8}-1", exporter, slot);
            _byName[snapshot.Name] = snapshot;
        }
        if (_scheduler.Gate != this)
            _scheduler.Gate = this; // from the first export on: it admits everyone while nothing is held
        return snapshot;
    }

    /// <summary>The slot is made and <paramref name="nextXid"/> read after it: the snapshot can be imported; writers wait for the hold.</summary>
    public void Take(ExportedSnapshot snapshot, string nextXid, int generation)
    {
        lock (_lock)
        {
            if (snapshot.State != SnapshotState.Pending)
                return;
            snapshot.NextXid = nextXid;
            snapshot.Generation = generation;
            snapshot.State = SnapshotState.Live;
            snapshot.HoldUntil = DateTime.UtcNow + _hold;
            Arm();
        }
        _scheduler.Kick();
    }

    /// <summary>Its exporter ran another command or left, or making the slot failed: the snapshots it exported are gone.</summary>
    public void End(object exporter)
    {
        lock (_lock)
        {
            var ended = _byName.Values.Where(s => s.Exporter == exporter).ToList();
            foreach (var snapshot in ended)
            {
                snapshot.State = SnapshotState.Ended;
                snapshot.Holding = false;
                _byName.Remove(snapshot.Name);
            }
            if (ended.Count == 0)
                return;
        }
        Reopen();
    }

    /// <summary>The snapshot named so, while it can be imported in engine generation <paramref name="generation"/>; else null.</summary>
    public ExportedSnapshot? Find(string name, int generation)
    {
        lock (_lock)
            return _byName.TryGetValue(name, out var snapshot) && snapshot.State == SnapshotState.Live && snapshot.Generation == generation ? snapshot : null;
    }

    public bool Admits(object session, EngineAccess access)
    {
        lock (_lock)
        {
            var holding = false;
            foreach (var snapshot in _byName.Values)
            {
                if (!snapshot.Holding)
                    continue;
                if (snapshot.Exporter == session)
                    return true;
                if (snapshot.State == SnapshotState.Pending && access != EngineAccess.Internal)
                    return false; // the slot and its snapshot are taken first
                holding = true;
            }
            return !holding || access != EngineAccess.Ordinary;
        }
    }

    public void Released(object session)
    {
        lock (_lock)
        {
            var until = DateTime.UtcNow + _hold;
            foreach (var snapshot in _byName.Values)
            {
                if (snapshot.Holding && snapshot.State == SnapshotState.Live)
                    snapshot.HoldUntil = until;
            }
            Arm();
        }
    }

    public void Dispose() => _timer.Dispose();

    /// <summary>Fires at the earliest hold deadline (under the lock).</summary>
    private void Arm()
    {
        var next = _byName.Values.Where(s => s.Holding && s.State == SnapshotState.Live).Select(s => s.HoldUntil).DefaultIfEmpty(DateTime.MaxValue).Min();
        if (next == DateTime.MaxValue)
            return;
        var due = next - DateTime.UtcNow;
        try
        {
            _timer.Change(due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private void OnTimer()
    {
        if (_scheduler.Owner is not null)
        {
            // Someone admitted holds the engine: its release moves the deadline and arms the timer again.
            return;
        }
        lock (_lock)
        {
            var now = DateTime.UtcNow;
            foreach (var snapshot in _byName.Values)
            {
                if (snapshot.Holding && snapshot.State == SnapshotState.Live && snapshot.HoldUntil <= now)
                    snapshot.Holding = false; // still importable until someone writes
            }
            Arm();
        }
        Reopen();
    }

    /// <summary>A hold ended: a free engine goes to the first waiter now admitted (when none is held, the writers that waited, in their order).</summary>
    private void Reopen() => _scheduler.Kick();
}
