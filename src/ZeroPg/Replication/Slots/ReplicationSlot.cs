namespace ZeroPg.Replication.Slots;

/// <summary>One row of zeropg_repl.slots.</summary>
internal sealed record ReplicationSlot(string Name, string Plugin, bool Temporary, Lsn ConsistentPoint, Lsn ConfirmedFlush)
{
    public static ReplicationSlot FromRow(string?[] row) => new(row[0]!, row[1]!, row[2] == "t",
        Lsn.TryParse(row[3], out var consistent) ? consistent : Lsn.Invalid,
        Lsn.TryParse(row[4], out var confirmed) ? confirmed : Lsn.Invalid);
}
