namespace ZeroPg.Replication.Slots;

/// <summary>One row of zeropg_repl.slots (<see cref="SlotSql"/>'s columns). <see cref="InvalidationReason"/>: 'wal_removed' once
/// the slot fell more than max_slot_wal_keep_size behind; <see cref="OwnerPid"/>: the session a temporary slot belongs to;
/// <see cref="TwoPhase"/>: prepared transactions decoded at PREPARE from <see cref="TwoPhaseAt"/> on (Capture/TwoPhasePrepares).</summary>
internal sealed record ReplicationSlot(string Name, string Plugin, bool Temporary, Lsn ConsistentPoint, Lsn ConfirmedFlush,
    string? InvalidationReason = null, int? OwnerPid = null, bool TwoPhase = false, Lsn TwoPhaseAt = default)
{
    /// <summary>A row of <see cref="SlotSql"/>'s created or acquired slot.</summary>
    public static ReplicationSlot FromRow(string?[] row) => new(row[0]!, row[1]!, row[2] == "t", Position(row[3]), Position(row[4]),
        row.Length > 5 ? row[5] : null,
        row.Length > 6 && int.TryParse(row[6], out var owner) ? owner : null,
        row.Length > 7 && row[7] == "t",
        row.Length > 8 ? Position(row[8]) : Lsn.Invalid);

    private static Lsn Position(string? text) => Lsn.TryParse(text, out var lsn) ? lsn : Lsn.Invalid;
}
