namespace ZeroPg.Replication.Walsender;

/// <summary>A parsed walsender command (repl_gram.y). Plain SQL on a replication=database connection is not one.</summary>
internal abstract record ReplicationCommand;

internal sealed record IdentifySystemCommand : ReplicationCommand;

internal sealed record ShowCommand(string Name) : ReplicationCommand;

internal sealed record TimelineHistoryCommand(uint Timeline) : ReplicationCommand;

internal sealed record ReadReplicationSlotCommand(string SlotName) : ReplicationCommand;

internal sealed record DropReplicationSlotCommand(string SlotName, bool Wait) : ReplicationCommand;

internal enum ReplicationKind { Physical, Logical }

/// <summary>What CREATE_REPLICATION_SLOT does with a snapshot: export one (default), use it in the
/// current transaction, or nothing.</summary>
internal enum SnapshotAction { Export, Use, Nothing }

internal sealed record CreateReplicationSlotCommand(
    string SlotName, bool Temporary, ReplicationKind Kind, string? Plugin,
    SnapshotAction Snapshot, bool TwoPhase, bool Failover, bool ReserveWal) : ReplicationCommand;

internal sealed record AlterReplicationSlotCommand(string SlotName, bool? TwoPhase, bool? Failover) : ReplicationCommand;

/// <summary>START_REPLICATION; plugin options keep their order and values (null when given without one).</summary>
internal sealed record StartReplicationCommand(
    ReplicationKind Kind, string? SlotName, Lsn StartLsn, uint? Timeline,
    IReadOnlyList<KeyValuePair<string, string?>> Options) : ReplicationCommand;

/// <summary>BASE_BACKUP / UPLOAD_MANIFEST: recognised so they can be refused with a clear error.</summary>
internal sealed record UnsupportedReplicationCommand(string Keyword) : ReplicationCommand;
