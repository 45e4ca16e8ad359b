namespace ZeroPg.Replication.Snapshots;

internal enum SnapshotState : byte
{
    /// <summary>Its slot is being made: nobody but the exporter may have the engine yet.</summary>
    Pending,

    /// <summary>Importable while the engine's next transaction id is still <see cref="ExportedSnapshot.NextXid"/>.</summary>
    Live,

    /// <summary>Its exporter ran another command or left (Postgres then forgets the snapshot too).</summary>
    Ended,
}

/// <summary>
/// One snapshot exported by CREATE_REPLICATION_SLOT: the engine's committed state when its slot was made. The engine runs
/// one transaction at a time, so that state is still the engine's own as long as no transaction id was assigned since
/// (<see cref="NextXid"/>): an importing transaction checks exactly that (<see cref="SnapshotImport"/>). State owned by
/// <see cref="ExportedSnapshots"/> (under its lock).
/// </summary>
internal sealed class ExportedSnapshot(string name, object exporter, string slot)
{
    public string Name { get; } = name;

    /// <summary>The walsender session that exported it (its next command ends it).</summary>
    public object Exporter { get; } = exporter;

    public string Slot { get; } = slot;

    public SnapshotState State { get; set; } = SnapshotState.Pending;

    /// <summary>pg_snapshot_xmax(pg_current_snapshot()) right after the slot was made: the first transaction id not yet assigned.</summary>
    public string? NextXid { get; set; }

    /// <summary>The engine generation it was taken in (a restarted engine is another engine).</summary>
    public int Generation { get; set; }

    /// <summary>Other clients' writes wait (<see cref="ExportedSnapshots"/>): from the export until <see cref="HoldUntil"/> passes with the engine free.</summary>
    public bool Holding { get; set; } = true;

    public DateTime HoldUntil { get; set; } = DateTime.MaxValue;
}
