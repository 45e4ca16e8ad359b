namespace ZeroPg.Sessions.Statements;

/// <summary>
/// What the one engine session holds on behalf of all clients: the named statements (by text and
/// parameter types) and which client's unnamed statement is current. Touched only by the session
/// that owns the engine, so it needs no lock.
/// </summary>
internal sealed class StatementCatalog
{
    private readonly Dictionary<(string Sql, string Types), EngineStatement> _statements = new();
    private int _nextId;

    /// <summary>Bumped when the engine forgets its statements (engine restart, DISCARD ALL, DEALLOCATE ALL).</summary>
    public int Epoch { get; private set; }

    public int Count => _statements.Count;

    /// <summary>Statements ZeroPg prepared on its own for repeated simple Queries.</summary>
    public AutoStatements Auto { get; } = new();

    /// <summary>The engine process generation these statements belong to.</summary>
    public int EngineGeneration { get; set; }

    /// <summary>The client whose unnamed statement the engine holds, and which of its Parses that was.</summary>
    public (ClientSession? Owner, long Version) Unnamed { get; set; }

    public EngineStatement GetOrAdd(ReadOnlySpan<byte> sql, ReadOnlySpan<byte> parameterTypes)
    {
        var key = Key(sql, parameterTypes);
        lock (_statements)
        {
            if (!_statements.TryGetValue(key, out var statement))
            {
                statement = new EngineStatement($"zp_{++_nextId}", sql.ToArray(), parameterTypes.ToArray());
                _statements[key] = statement;
            }
            return statement;
        }
    }

    /// <summary>A statement the engine has parsed without error before (it may need preparing again); callable without owning the engine.</summary>
    public EngineStatement? FindValidated(ReadOnlySpan<byte> sql, ReadOnlySpan<byte> parameterTypes)
    {
        var key = Key(sql, parameterTypes);
        lock (_statements)
            return _statements.TryGetValue(key, out var statement) && statement.PreparedEpoch >= 0 ? statement : null;
    }

    private static (string, string) Key(ReadOnlySpan<byte> sql, ReadOnlySpan<byte> parameterTypes)
        => (System.Text.Encoding.UTF8.GetString(sql), Convert.ToHexString(parameterTypes));

    public bool IsPrepared(EngineStatement statement) => statement.PreparedEpoch == Epoch;

    /// <summary>The engine no longer holds any named statement (nor the unnamed one).</summary>
    public void Forget()
    {
        Epoch++;
        Unnamed = default;
    }
}
