namespace ZeroPg.Sessions;

/// <summary>What a unit does with replication slots, from the SQL analysed when its messages were accepted (a Bind by its statement's).</summary>
internal readonly record struct UnitSlotUse(bool Reads, bool Calls, bool Creates)
{
    public bool Uses => Reads || Calls;

    /// <summary>The other databases' slots are read before the unit: it lists them, or its new slot's name must be free among them
    /// (a slot function that uses a slot needs only their names, which ZeroPg stores when it makes one).</summary>
    public bool ReadsOthers => Reads || Creates;

    public static UnitSlotUse Of(ClientBatch batch, int count, StatementMapping statements)
    {
        var use = new UnitSlotUse();
        foreach (var sql in UnitSql.Of(batch, count, statements))
            use = new(use.Reads || sql.ReadsReplicationSlots, use.Calls || sql.CallsSlotFunction, use.Creates || sql.CreatesSlot);
        return use;
    }
}
