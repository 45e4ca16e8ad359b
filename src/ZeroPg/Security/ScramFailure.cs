using ZeroPg.Protocol;

namespace ZeroPg.Security;

/// <summary>Why a SCRAM exchange ended without authenticating; each becomes the FATAL Postgres sends.</summary>
internal static class ScramFailure
{
    public static PgErrorException PasswordFailed(string user) => new(PgError.Fatal(SqlState.InvalidPassword,
        $"password authentication failed for user \"{user}\"",
        "Check the password; the postgres role's is set by --password, ZEROPG_PASSWORD or POSTGRES_PASSWORD, other roles' by ALTER ROLE ... PASSWORD."));

    public static PgErrorException Malformed(string detail) => new(PgError.Fatal(SqlState.ProtocolViolation,
        "malformed SCRAM message", "The client sent a SCRAM-SHA-256 message this server cannot read.", detail: detail));

    public static PgErrorException ChannelBinding(string message, string detail) => new(PgError.Fatal(SqlState.InvalidAuthorizationSpecification,
        message, "Channel binding ties SCRAM to this TLS connection; connect without a proxy that ends TLS, or with channel_binding=disable.", detail: detail));

    public static PgErrorException Unsupported(string message) => new(PgError.Fatal(SqlState.FeatureNotSupported, message,
        "Use a client that speaks SCRAM-SHA-256 as libpq does."));
}
