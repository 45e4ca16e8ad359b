namespace ZeroPg.Sessions.Statements;

/// <summary>
/// Which texts auto-prepare may prepare: those that ran once without error as plain Queries (so a one-off statement costs nothing
/// extra and a failing one keeps its own error), less those the engine refused to prepare. Both sets are bounded at eight times
/// <see cref="Capacity"/>: texts seen once and never again are forgotten. Guarded by its owner's lock (<see cref="AutoStatements"/>
/// for the PGlite engine, <see cref="Engine.Pooled.PoolAutoPrepare"/> for a pool's backends).
/// </summary>
internal sealed class PreparableTexts
{
    private readonly HashSet<string> _ranOnce = new(StringComparer.Ordinal);
    private readonly HashSet<string> _refused = new(StringComparer.Ordinal);

    /// <summary>How many statements the owner keeps prepared.</summary>
    public int Capacity { get; set; } = 256;

    /// <summary>The text (known by <paramref name="key"/>) ran once without error, and was not refused.</summary>
    public bool MayPrepare(string key) => _ranOnce.Contains(key) && !_refused.Contains(key);

    /// <summary>The text ran as a plain Query without error: the next time it may run prepared.</summary>
    public void RanOnce(string key)
    {
        if (_ranOnce.Count >= Capacity * 8)
            _ranOnce.Clear();
        _ranOnce.Add(key);
    }

    /// <summary>The engine refused to prepare the text (it would fail otherwise than the plain Query): plain from now on, until <see cref="Clear"/>.</summary>
    public void Refuse(string key)
    {
        if (_refused.Count < Capacity * 8)
            _refused.Add(key);
    }

    /// <summary>The schema changed: every text runs plain once more before it is prepared again.</summary>
    public void Clear()
    {
        _ranOnce.Clear();
        _refused.Clear();
    }
}
