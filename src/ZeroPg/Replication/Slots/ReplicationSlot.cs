namespace ZeroPg.Replication.Slots;

/// <summary>One row of zeropg_repl.slots (<see cref="SlotSql"/>'s columns). <see cref="InvalidationReason"/>: 'wal_removed' once
/// the slot fell more than max_slot_wal_keep_size behind; <see cref="OwnerPid"/>: the session a temporary slot belongs to.</summary>
internal sealed record ReplicationSlot(string Name, string Plugin, bool Temporary, Lsn ConsistentPoint, Lsn ConfirmedFlush,
    string? InvalidationReason = null, int? OwnerPid = null)
{
    public static ReplicationSlot FromRow(string?[] row) => new(row[0]!, row[1]!, row[2] == "t",
        Lsn.TryParse(row[3], out var consistent) ? consistent : Lsn.Invalid,
        Lsn.TryParse(row[4], out var confirmed) ? confirmed : Lsn.Invalid,
        row.Length > 5 ? row[5] : null,
        row.Length > 6 && int.TryParse(row[6], out var owner) ? owner : null);
}
