using System.Text;

namespace ZeroPg.Sessions.Statements;

/// <summary>
/// The statements ZeroPg prepared in the engine for simple Queries (see <see cref="ZeroPg.Sql.AutoParameterizer"/>),
/// shared by all clients and keyed by their parameterized text and the settings that change how Postgres
/// reads it (a timestamptz literal is converted in the TimeZone of the Parse, and never again). A text is prepared the second time it
/// comes, once it has run without error as a plain Query, so a one-off statement costs nothing extra and
/// a failing one keeps its own error. At most <see cref="Capacity"/> are kept; the least recently used
/// one is closed in the engine to make room. Guarded by the lock of its <see cref="StatementCatalog"/>.
/// </summary>
internal sealed class AutoStatements(object gate)
{
    private static readonly byte[] NoParameterTypes = [0, 0];

    private readonly Dictionary<string, (EngineStatement Statement, long LastUse)> _prepared = new(StringComparer.Ordinal);
    private readonly PreparableTexts _texts = new();
    private readonly List<byte[]> _toClose = [];
    private int _nextId;
    private long _clock;

    public int Capacity
    {
        get => _texts.Capacity;
        set => _texts.Capacity = value;
    }

    /// <summary>The statement for <paramref name="sql"/> (known by <paramref name="key"/>) when it is to be run prepared; null to run it as a plain Query this time.</summary>
    public EngineStatement? Find(string key, string sql)
    {
        lock (gate)
        {
            if (_prepared.TryGetValue(key, out var entry))
            {
                _prepared[key] = (entry.Statement, ++_clock);
                return entry.Statement;
            }
            if (!_texts.MayPrepare(key))
                return null;
            if (_prepared.Count >= Capacity)
                EvictLeastRecentlyUsed();
            var statement = new EngineStatement($"zp_auto_{++_nextId}", Encoding.UTF8.GetBytes(sql), NoParameterTypes);
            _prepared[key] = (statement, ++_clock);
            return statement;
        }
    }

    /// <summary>The text ran as a plain Query without error: the next time it is prepared.</summary>
    public void RanOnce(string key)
    {
        lock (gate)
            _texts.RanOnce(key);
    }

    /// <summary>The engine refused to prepare it (it would fail differently from the plain Query): never again, until the schema changes.</summary>
    public void Refuse(string key)
    {
        lock (gate)
        {
            Drop(key);
            _texts.Refuse(key);
        }
    }

    /// <summary>The statement failed to bind (e.g. its cached plan no longer fits the table): close it and prepare it afresh next time.</summary>
    public void Drop(string key)
    {
        lock (gate)
        {
            if (_prepared.Remove(key, out var entry))
                _toClose.Add(entry.Statement.EngineNameBytes);
        }
    }

    /// <summary>
    /// A statement changed the schema (or may have): a prepared statement whose result columns change
    /// fails with "cached plan must not change result type", and one made before a temp table shadowing
    /// a table would still read the table. Close them all; texts are prepared again after a plain run.
    /// </summary>
    public void Invalidate()
    {
        lock (gate)
        {
            foreach (var (statement, _) in _prepared.Values)
                _toClose.Add(statement.EngineNameBytes);
            _prepared.Clear();
            _texts.Clear();
        }
    }

    /// <summary>Names of engine statements to close before the next auto-prepared run (closing a missing one is not an error).</summary>
    public byte[][] TakeClosings()
    {
        lock (gate)
        {
            if (_toClose.Count == 0)
                return [];
            var names = _toClose.ToArray();
            _toClose.Clear();
            return names;
        }
    }

    private void EvictLeastRecentlyUsed()
    {
        var oldest = _prepared.MinBy(p => p.Value.LastUse);
        _prepared.Remove(oldest.Key);
        _toClose.Add(oldest.Value.Statement.EngineNameBytes);
    }
}
