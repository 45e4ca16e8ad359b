namespace ZeroPg.Security;

/// <summary>
/// The superuser role from the options, as the Postgres image makes POSTGRES_USER and POSTGRES_PASSWORD: created
/// when missing (SUPERUSER LOGIN) and given the password, in every engine the server starts (a memory:// engine
/// started again after a crash starts without them). The engine stores only the password's SCRAM verifier.
/// </summary>
internal static class BootstrapRole
{
    public const string DefaultUser = "postgres";

    /// <summary>The SQL, or null when the default role needs nothing (postgres without a password).</summary>
    public static string? Sql(SecurityOptions security)
    {
        if (security.User == DefaultUser && security.Password is null)
            return null;
        var name = security.User.Replace("\"", "\"\"");
        var literal = security.User.Replace("'", "''");
        var sql = security.User == DefaultUser ? "" :
            $"DO $zp$ BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '{literal}') THEN CREATE ROLE \"{name}\" SUPERUSER LOGIN; END IF; END $zp$; ";
        if (security.Password is { } password)
            sql += $"SET password_encryption = 'scram-sha-256'; ALTER ROLE \"{name}\" PASSWORD '{password.Replace("'", "''")}'; RESET password_encryption";
        return sql;
    }
}
