using ZeroPg.Protocol;

namespace ZeroPg.Replication.Walsender;

/// <summary>Errors the walsender grammar raises, with Postgres's texts and SQLSTATEs.</summary>
internal static class ReplicationSyntaxError
{
    public const string SyntaxErrorState = "42601";
    public const string ObjectNotInPrerequisiteState = "55000";

    public static PgErrorException Create(string message) => new(PgError.Error(SyntaxErrorState, message));

    public static PgErrorException Error(string sqlState, string message, string? hint = null)
        => new(PgError.Error(sqlState, message, hint));
}
