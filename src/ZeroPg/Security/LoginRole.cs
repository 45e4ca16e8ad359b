using System.Globalization;

namespace ZeroPg.Security;

/// <summary>What pg_authid says of a role a client may log in as (read by <see cref="AllSql"/> into the <see cref="RoleDirectory"/>).</summary>
internal sealed record LoginRole(string Name, bool CanLogin, bool IsSuperuser, string? Password, DateTimeOffset? ValidUntil, bool CanReplicate = false)
{
    /// <summary>Every role as text columns: rolname, rolcanlogin, rolsuper, rolpassword, rolvaliduntil as epoch seconds, rolreplication.</summary>
    public const string AllSql =
        "SELECT rolname, rolcanlogin::text, rolsuper::text, rolpassword, extract(epoch from rolvaliduntil)::text, rolreplication::text FROM pg_catalog.pg_authid";

    /// <summary>VALID UNTIL passed: the password no longer logs in (Postgres's rule).</summary>
    public bool PasswordExpired => ValidUntil is { } until && until < DateTimeOffset.UtcNow;

    /// <summary>SQL that makes an engine hold this role as it is here (another database's copy of a cluster role).</summary>
    public string CopySql()
    {
        var name = Name.Replace("\"", "\"\"");
        var literal = Name.Replace("'", "''");
        var password = Password is null ? "NULL" : "'" + Password.Replace("'", "''") + "'";
        return $"DO $zp$ BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '{literal}') THEN CREATE ROLE \"{name}\"; END IF; END $zp$; " +
            $"ALTER ROLE \"{name}\" {(IsSuperuser ? "SUPERUSER" : "NOSUPERUSER")} {(CanLogin ? "LOGIN" : "NOLOGIN")} {(CanReplicate ? "REPLICATION" : "NOREPLICATION")} PASSWORD {password}";
    }

    public static LoginRole FromRow(string?[] row) => new(row[0]!, row[1] == "true", row[2] == "true", row[3],
        double.TryParse(row[4], NumberStyles.Float, CultureInfo.InvariantCulture, out var epoch) && double.IsFinite(epoch)
            ? DateTimeOffset.FromUnixTimeMilliseconds((long)(epoch * 1000)) : null, row.Length > 5 && row[5] == "true");
}
