namespace ZeroPg.Migrations;

/// <summary>
/// One database session migrations run on: the engine itself at server start, or a client connection
/// (`zeropg migrate --url`). Each call is ONE simple Query, so a multi-statement script runs in one
/// implicit transaction as Postgres's simple protocol defines (and as `prisma migrate deploy` sends it).
/// </summary>
public interface IMigrationSession
{
    /// <summary>Runs <paramref name="sql"/>; returns the rows of its last result set as text. Throws <see cref="MigrationSqlException"/> on an error.</summary>
    Task<IReadOnlyList<string?[]>> QueryAsync(string sql, CancellationToken cancellationToken);
}

/// <summary>An error Postgres answered, with its fields.</summary>
public sealed class MigrationSqlException(string sqlState, string message, string? detail, string? hint, int? position, string? where = null)
    : Exception($"{sqlState}: {message}")
{
    public string SqlState { get; } = sqlState;
    public string PgMessage { get; } = message;
    public string? Detail { get; } = detail;
    public string? Hint { get; } = hint;
    /// <summary>1-based character position in the query, when Postgres gave one.</summary>
    public int? Position { get; } = position;
    public string? Where { get; } = where;
}

/// <summary>A migration that failed: the file, the statement and Postgres's error. Stops the start.</summary>
public sealed class MigrationFailedException(string message, Exception? inner = null) : Exception(message, inner);
