using System.Collections.Concurrent;

namespace ZeroPg.Replication.Slots;

/// <summary>Which slots a walsender of this server is streaming from, and its process id (what Postgres's
/// active_pid says): a slot streams to one walsender at a time. Owned by the server (SessionServices); each
/// entry by the walsender that acquired it, which releases it when its stream ends or its session does.</summary>
internal sealed class SlotActivity
{
    private readonly ConcurrentDictionary<string, int> _active = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<int, WalsenderProgress> _progress = new();

    /// <summary>Null when acquired; otherwise the process id of the walsender that holds it.</summary>
    public int? TryAcquire(string slot, int processId)
    {
        var holder = _active.GetOrAdd(slot, processId);
        return holder == processId ? null : holder;
    }

    public void Release(string slot, int processId)
    {
        if (_active.TryRemove(new KeyValuePair<string, int>(slot, processId)))
            _progress.TryRemove(processId, out _);
    }

    /// <summary>The progress of the stream the walsender <paramref name="processId"/> runs from the slot it acquired
    /// (pg_stat_replication); a new one for each stream.</summary>
    public WalsenderProgress Track(string slot, int processId) => _progress[processId] = new WalsenderProgress(slot);

    /// <summary>The walsender's stream, while it streams; null otherwise.</summary>
    public WalsenderProgress? ProgressOf(int processId) => _progress.TryGetValue(processId, out var progress) ? progress : null;

    /// <summary>The active slots as the jsonb {"slot": pid} ZeroPg's slot functions take (Slots/SlotFunctions).</summary>
    public string ActiveJson() => "{" + string.Join(",", Active.Select(a => $"\"{a.Slot}\":{a.ProcessId}")) + "}";

    public int? Holder(string slot) => _active.TryGetValue(slot, out var pid) ? pid : null;

    /// <summary>The slots streaming now, with their walsender's process id.</summary>
    public IReadOnlyList<(string Slot, int ProcessId)> Active => [.. _active.Select(e => (e.Key, e.Value)).OrderBy(e => e.Key, StringComparer.Ordinal)];
}
