namespace ZeroPg.Sessions.Statements;

/// <summary>One client's own prepared-statement namespace: its names mapped to engine statements. Owned by the session.</summary>
internal sealed class ClientStatements
{
    private readonly Dictionary<string, EngineStatement> _byName = new(StringComparer.Ordinal);

    /// <summary>The client's last Parse of the unnamed statement (whole message), replayed when another client's replaced it.</summary>
    public byte[]? LastUnnamedParse { get; private set; }

    /// <summary>The SQL of <see cref="LastUnnamedParse"/>, as analysed when the client's Parse came.</summary>
    public Sql.SqlAnalysis? LastUnnamedSql { get; private set; }

    public void SetUnnamed(byte[]? parse, Sql.SqlAnalysis? sql)
    {
        LastUnnamedParse = parse;
        LastUnnamedSql = parse is null ? null : sql;
    }

    public long UnnamedVersion { get; set; }

    /// <summary>The client's unnamed statement is DISCARD ALL / DEALLOCATE ALL.</summary>
    public bool UnnamedDeallocatesAll { get; set; }

    public int Count => _byName.Count;

    public bool TryGet(string name, out EngineStatement statement) => _byName.TryGetValue(name, out statement!);

    public bool Contains(string name) => _byName.ContainsKey(name);

    public void Add(string name, EngineStatement statement) => _byName[name] = statement;

    public void Remove(string name) => _byName.Remove(name);

    /// <summary>Forgets a name only if it still points at <paramref name="statement"/> (its Parse failed).</summary>
    public void RemoveIf(string name, EngineStatement statement)
    {
        if (_byName.TryGetValue(name, out var current) && ReferenceEquals(current, statement))
            _byName.Remove(name);
    }

    public void Clear()
    {
        _byName.Clear();
        SetUnnamed(null, null);
    }
}
