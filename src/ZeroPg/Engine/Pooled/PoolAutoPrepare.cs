using System.Text;

namespace ZeroPg.Engine.Pooled;

/// <summary>
/// Auto-prepare's shared knowledge for the backends of one <see cref="PoolKey"/> (a database and a login role): which texts ran
/// once without error as plain Queries (a text is prepared the second time it comes, so a one-off statement costs nothing and a
/// failing one keeps its own error), which a backend refused to prepare, and the schema's generation: a statement of any client
/// that may change the schema (<see cref="AutoPreparedRuns"/>) makes every backend close what it prepared before its next run
/// (<see cref="BackendStatements"/>). The statements themselves are each backend's. <see cref="_lock"/> owns the sets.
/// </summary>
internal sealed class PoolAutoPrepare(int capacity)
{
    private readonly object _lock = new();
    private readonly HashSet<string> _ranOnce = new(StringComparer.Ordinal);
    private readonly HashSet<string> _refused = new(StringComparer.Ordinal);
    private long _generation;
    private static long s_lastName; // process-wide: a name is never reused, so a statement a DISCARD may have left is never met again

    /// <summary>The most statements one backend keeps prepared; the least recently used is closed to make room.</summary>
    public int Capacity => capacity;

    /// <summary>Goes up at each statement that may have changed the schema: a backend's statements from before are closed.</summary>
    public long Generation => Volatile.Read(ref _generation);

    /// <summary>The text (known by <paramref name="key"/>) ran once as a plain Query without error, and no backend refused to prepare it.</summary>
    public bool MayPrepare(string key)
    {
        lock (_lock)
            return _ranOnce.Contains(key) && !_refused.Contains(key);
    }

    /// <summary>The text ran as a plain Query without error: the next time it runs prepared.</summary>
    public void RanOnce(string key)
    {
        lock (_lock)
        {
            if (_ranOnce.Count >= capacity * 8)
                _ranOnce.Clear(); // bounded: texts seen once and never again are forgotten
            _ranOnce.Add(key);
        }
    }

    /// <summary>A backend refused to prepare the text (it would fail otherwise than the plain Query): plain from now on, until the schema changes.</summary>
    public void Refuse(string key)
    {
        lock (_lock)
        {
            if (_refused.Count < capacity * 8)
                _refused.Add(key);
        }
    }

    /// <summary>
    /// A statement may have changed the schema: a prepared statement whose result columns change fails with "cached plan must not
    /// change result type" where the plain Query would not. Every backend closes its statements; texts are prepared again after a plain run.
    /// </summary>
    public void Invalidate()
    {
        lock (_lock)
        {
            _generation++;
            _ranOnce.Clear();
            _refused.Clear();
        }
    }

    /// <summary>A statement name no backend of the process has had.</summary>
    public static byte[] NewName() => Encoding.ASCII.GetBytes($"zp_auto_{Interlocked.Increment(ref s_lastName)}");
}
