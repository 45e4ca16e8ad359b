namespace ZeroPg.Protocol;

internal static class ProtocolViolation
{
    public static PgErrorException Create(string message, string? hint = null)
        => new(PgError.Fatal(SqlState.ProtocolViolation, message,
            hint ?? "The client sent bytes that are not a valid PostgreSQL protocol 3 message; the connection is closed."));
}
