namespace ZeroPg.Sessions;

/// <summary>A statement of ZeroPg's own (<see cref="OwnSql.QueryRowAsync"/>) failed in the engine; <see cref="SqlState"/> says why.</summary>
internal sealed class OwnSqlException(string sqlState, string message) : Exception(sqlState.Length > 0 ? $"{message} ({sqlState})" : message)
{
    public string SqlState { get; } = sqlState;
}
