namespace ZeroPg.Replication.Walsender;

/// <summary>A walsender's hold on a new slot's name among the server's (Slots/ClusterSlots.Reserve), with the setting that tells its
/// engine which names the other databases have taken; the hold ends when it is disposed, once the slot's row is stored.</summary>
internal readonly record struct SlotReservation(IDisposable Hold, string OthersSetting) : IDisposable
{
    public void Dispose() => Hold.Dispose();
}
