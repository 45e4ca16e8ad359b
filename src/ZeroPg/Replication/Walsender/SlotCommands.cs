using System.IO.Pipelines;
using ZeroPg.Protocol.Backend;
using ZeroPg.Replication.Slots;

namespace ZeroPg.Replication.Walsender;

/// <summary>READ_REPLICATION_SLOT and ALTER_REPLICATION_SLOT, as walsender.c answers them for ZeroPg's slots (all logical).
/// Thread: the walsender session's.</summary>
internal static class SlotCommands
{
    /// <summary>Postgres reads physical slots only: a logical one is 0A000, a missing one a row of NULLs.</summary>
    public static async Task ReadAsync(ReadReplicationSlotCommand read, PipeWriter output, EngineQuery query)
    {
        if ((await query([SlotSql.Get(read.SlotName)]))[0].Count > 0)
            throw ReplicationErrors.Error(ReplicationErrors.FeatureNotSupported, "cannot use READ_REPLICATION_SLOT with a logical replication slot",
                "READ_REPLICATION_SLOT reads physical slots; a logical slot's positions are in pg_replication_slots.");
        WalsenderReplies.RowDescription(output, ("slot_type", WalsenderReplies.TextOid), ("restart_lsn", WalsenderReplies.TextOid),
            ("restart_tli", WalsenderReplies.Int8Oid));
        WalsenderReplies.DataRow(output, null, null, null);
        CommandComplete.Write(output, "READ_REPLICATION_SLOT");
    }

    /// <summary>ReplicationSlotAlter: the slot is acquired (missing, held by another process, invalidated: Postgres's errors),
    /// then FAILOVER is stored (there is no standby to sync to, so it changes nothing else) and TWO_PHASE set (enabled, prepared
    /// transactions are decoded at PREPARE from the slot's confirmed position on: Capture/TwoPhasePrepares).</summary>
    public static async Task AlterAsync(AlterReplicationSlotCommand alter, PipeWriter output, EngineQuery query, int processId, string activeJson)
    {
        var slot = ReplicationSlot.FromRow((await query([SlotSql.Acquire(alter.SlotName, processId, activeJson)]))[0][0]);
        if (alter.Failover == true && slot.Temporary)
            throw ReplicationErrors.Error(ReplicationErrors.FeatureNotSupported, "cannot enable failover for a temporary replication slot");
        if (alter.Failover is { } failover)
            await query([SlotSql.SetFailover(alter.SlotName, failover)]);
        if (alter.TwoPhase is { } twoPhase && twoPhase != slot.TwoPhase)
            await query([SlotSql.SetTwoPhase(alter.SlotName, twoPhase, slot.ConfirmedFlush)]);
        CommandComplete.Write(output, "ALTER_REPLICATION_SLOT");
    }
}
