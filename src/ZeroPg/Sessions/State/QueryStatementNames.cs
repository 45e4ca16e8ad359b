using ZeroPg.Sessions.Statements;
using ZeroPg.Sql;

namespace ZeroPg.Sessions;

/// <summary>
/// The statement names of one simple Query resolved in the client's namespace (<see cref="StatementMapping.ForQuery"/>):
/// the engine names for the rewrite, the client's names for the engine's errors, and what the Query's outcome does to the names.
/// </summary>
internal sealed class QueryStatementNames : ISqlStatementNames
{
    private readonly Dictionary<int, string> _byPosition = [];

    /// <summary>Engine name to the client's, for the engine's error messages.</summary>
    public Dictionary<string, string> ClientNames { get; } = new(StringComparer.Ordinal);

    public event Action? OnSucceeded;
    public event Action? OnFailed;

    public void Add(SqlEdit edit, string engineName, string clientName)
    {
        _byPosition[edit.Start] = SqlEdit.Identifier(engineName);
        ClientNames[engineName] = clientName;
    }

    public string EngineName(SqlEdit edit) => _byPosition[edit.Start];

    public void Completed(bool ok)
    {
        if (ok)
            OnSucceeded?.Invoke();
        else
            OnFailed?.Invoke();
    }
}
