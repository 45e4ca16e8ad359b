using System.Text;
using ZeroPg.Sessions.Statements;

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
    private readonly PreparableTexts _texts = new() { Capacity = capacity };
    private long _generation;
    private static long s_lastName; // process-wide: a name is never reused, so a statement a DISCARD may have left is never met again

    /// <summary>The most statements one backend keeps prepared; the least recently used is closed to make room.</summary>
    public int Capacity => capacity;

    /// <summary>Goes up at each statement that may have changed the schema: a backend's statements from before are closed.</summary>
    public long Generation => Volatile.Read(ref _generation);

    /// <inheritdoc cref="PreparableTexts.MayPrepare"/>
    public bool MayPrepare(string key)
    {
        lock (_lock)
            return _texts.MayPrepare(key);
    }

    /// <inheritdoc cref="PreparableTexts.RanOnce"/>
    public void RanOnce(string key)
    {
        lock (_lock)
            _texts.RanOnce(key);
    }

    /// <inheritdoc cref="PreparableTexts.Refuse"/>
    public void Refuse(string key)
    {
        lock (_lock)
            _texts.Refuse(key);
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
            _texts.Clear();
        }
    }

    /// <summary>A statement name no backend of the process has had.</summary>
    public static byte[] NewName() => Encoding.ASCII.GetBytes($"zp_auto_{Interlocked.Increment(ref s_lastName)}");
}
