using ZeroPg.Protocol;

namespace ZeroPg.Replication.Walsender;

/// <summary>The commands ZeroPg accepts by grammar but cannot serve: it has no physical WAL stream
/// (PGlite writes WAL but there is no standby to feed), so physical replication and base backups are
/// refused with Postgres's SQLSTATEs and a hint pointing at what works.</summary>
internal static class ReplicationRefusals
{
    private const string Hint = "ZeroPg serves logical replication: CREATE_REPLICATION_SLOT name LOGICAL pgoutput, then START_REPLICATION SLOT name LOGICAL lsn (options).";

    /// <summary>Null when the command may go on; otherwise the error to send (ERROR, then ReadyForQuery).</summary>
    public static PgError? Check(ReplicationCommand command, Func<string, ReplicationKind?>? slotKind = null) => command switch
    {
        StartReplicationCommand { Kind: ReplicationKind.Physical, SlotName: { } slot } when slotKind?.Invoke(slot) == ReplicationKind.Logical
            => PgError.Error(ReplicationSyntaxError.ObjectNotInPrerequisiteState, "cannot use a logical replication slot for physical replication"),
        StartReplicationCommand { Kind: ReplicationKind.Physical }
            => PgError.Error(SqlState.FeatureNotSupported, "physical replication is not supported", Hint),
        CreateReplicationSlotCommand { Kind: ReplicationKind.Physical }
            => PgError.Error(SqlState.FeatureNotSupported, "physical replication slots are not supported", Hint),
        TimelineHistoryCommand
            => PgError.Error(SqlState.FeatureNotSupported, "TIMELINE_HISTORY is not supported", Hint),
        UnsupportedReplicationCommand u
            => PgError.Error(SqlState.FeatureNotSupported, $"{u.Keyword} is not supported", Hint),
        _ => null,
    };
}
