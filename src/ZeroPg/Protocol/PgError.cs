namespace ZeroPg.Protocol;

/// <summary>An error or notice ZeroPg reports to a client in the fields Postgres uses.</summary>
internal sealed record PgError(string Severity, string SqlState, string Message, string? Detail = null, string? Hint = null)
{
    public static PgError Error(string sqlState, string message, string? hint = null, string? detail = null)
        => new("ERROR", sqlState, message, detail, hint);

    public static PgError Fatal(string sqlState, string message, string? hint = null, string? detail = null)
        => new("FATAL", sqlState, message, detail, hint);

    public static PgError Notice(string message, string? hint = null)
        => new("NOTICE", "00000", message, null, hint);

    public static PgError Warning(string sqlState, string message, string? hint = null)
        => new("WARNING", sqlState, message, null, hint);

    public bool IsFatal => Severity is "FATAL" or "PANIC";
}

/// <summary>Raised where processing must stop with a protocol reply: ERROR then ReadyForQuery, or FATAL then close.</summary>
internal sealed class PgErrorException(PgError error) : Exception(error.Message)
{
    public PgError Error { get; } = error;
}
