namespace ZeroPg.Sessions.Statements;

/// <summary>
/// One client's own prepared-statement namespace, as in Postgres one for statements made by Parse and by SQL PREPARE:
/// its names mapped to engine statements, with the text the client gave (what pg_prepared_statements shows). Every name holds its
/// shared engine statement in the <paramref name="catalog"/> (<see cref="StatementCatalog.Hold"/>), so a statement no client names any
/// more is closed in the engine. Owned by the session.
/// </summary>
internal sealed class ClientStatements(StatementCatalog? catalog = null)
{
    private readonly Dictionary<string, (EngineStatement Statement, string Text)> _byName = new(StringComparer.Ordinal);

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

    public bool TryGet(string name, out EngineStatement statement)
    {
        var found = _byName.TryGetValue(name, out var entry);
        statement = entry.Statement;
        return found;
    }

    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>Every name with its statement and the client's text, in no particular order.</summary>
    public IEnumerable<(string Name, EngineStatement Statement, string Text)> All => _byName.Select(e => (e.Key, e.Value.Statement, e.Value.Text));

    /// <summary>The client's statements SQL PREPARE made (each its own engine statement).</summary>
    public IEnumerable<EngineStatement> MadeBySql => _byName.Values.Where(e => e.Statement.FromSql).Select(e => e.Statement);

    public void Add(string name, EngineStatement statement, string? text = null)
    {
        catalog?.Hold(statement);
        if (_byName.TryGetValue(name, out var replaced))
            catalog?.Release(replaced.Statement);
        _byName[name] = (statement, text ?? statement.Text);
    }

    public void Remove(string name)
    {
        if (_byName.Remove(name, out var removed))
            catalog?.Release(removed.Statement);
    }

    /// <summary>Forgets a name only if it still points at <paramref name="statement"/> (its Parse failed).</summary>
    public void RemoveIf(string name, EngineStatement statement)
    {
        if (_byName.TryGetValue(name, out var current) && ReferenceEquals(current.Statement, statement))
            Remove(name);
    }

    public void Clear()
    {
        foreach (var (statement, _) in _byName.Values)
            catalog?.Release(statement);
        _byName.Clear();
        SetUnnamed(null, null);
    }
}
