using System.Globalization;
using System.Text;
using Npgsql;

namespace ZeroPg.Cli.Graduation;

/// <summary>
/// The roles a database's ownership and grants refer to, as SQL. pg_dump leaves roles out (they
/// belong to the cluster; pg_dumpall writes them), so a plain dump restored elsewhere fails on the
/// first <c>OWNER TO app</c>. This adds them in front of the dump, each created only where it does
/// not exist (an existing role is left untouched), with its attributes and password hash.
/// The bootstrap superuser (postgres) and the predefined pg_* roles are not written.
/// </summary>
internal static class RoleScript
{
    private sealed record Role(string Name, bool Super, bool Inherit, bool CreateRole, bool CreateDb, bool Login, bool Replication, bool BypassRls, int ConnectionLimit, string? Password, DateTime? ValidUntil);

    public static async Task<string?> BuildAsync(NpgsqlConnection source, Action<string> warn, CancellationToken cancellationToken)
    {
        var roles = await ReadRolesAsync(source, warn, cancellationToken);
        var memberships = await ReadMembershipsAsync(source, cancellationToken);
        if (roles.Count == 0 && memberships.Count == 0)
            return null;
        var sql = new StringBuilder();
        sql.Append("--\n-- Roles used by this database (zeropg dump: pg_dump leaves roles out). Each is created\n")
            .Append("-- only where it does not exist yet; an existing role is left as it is.\n--\n\n");
        foreach (var role in roles)
        {
            var create = new StringBuilder($"CREATE ROLE {QuoteIdentifier(role.Name)} WITH");
            create.Append(role.Super ? " SUPERUSER" : " NOSUPERUSER")
                .Append(role.Inherit ? " INHERIT" : " NOINHERIT")
                .Append(role.CreateRole ? " CREATEROLE" : " NOCREATEROLE")
                .Append(role.CreateDb ? " CREATEDB" : " NOCREATEDB")
                .Append(role.Login ? " LOGIN" : " NOLOGIN")
                .Append(role.Replication ? " REPLICATION" : " NOREPLICATION")
                .Append(role.BypassRls ? " BYPASSRLS" : " NOBYPASSRLS");
            if (role.ConnectionLimit != -1)
                create.Append(CultureInfo.InvariantCulture, $" CONNECTION LIMIT {role.ConnectionLimit}");
            if (role.Password is not null)
                create.Append(" PASSWORD ").Append(QuoteLiteral(role.Password));
            if (role.ValidUntil is { } until)
                create.Append(" VALID UNTIL ").Append(QuoteLiteral(until.ToString("yyyy-MM-dd HH:mm:ss.ffffff+00", CultureInfo.InvariantCulture)));
            AppendDo(sql, $"IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = {QuoteLiteral(role.Name)}) THEN\n        {create};\n    END IF;");
        }
        foreach (var (role, member, admin) in memberships)
        {
            AppendDo(sql,
                $"IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = {QuoteLiteral(role)}) AND EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = {QuoteLiteral(member)}) THEN\n" +
                $"        GRANT {QuoteIdentifier(role)} TO {QuoteIdentifier(member)}{(admin ? " WITH ADMIN OPTION" : "")};\n    END IF;");
        }
        return sql.ToString();
    }

    private static void AppendDo(StringBuilder sql, string body)
    {
        var tag = "$zeropg$";
        for (var i = 1; body.Contains(tag, StringComparison.Ordinal); i++)
            tag = $"$zeropg{i}$";
        sql.Append("DO ").Append(tag).Append("\nBEGIN\n    ").Append(body).Append("\nEND\n").Append(tag).Append(";\n\n");
    }

    private static async Task<List<Role>> ReadRolesAsync(NpgsqlConnection source, Action<string> warn, CancellationToken cancellationToken)
    {
        const string columns = "r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin, r.rolreplication, r.rolbypassrls, r.rolconnlimit, {0}, r.rolvaliduntil";
        const string from = " FROM pg_catalog.pg_roles r {0} WHERE r.rolname !~ '^pg_' AND r.oid <> 10 ORDER BY r.rolname";
        string query;
        // Password hashes are in pg_authid, which only a superuser reads (PGlite's user is one).
        await using (var check = new NpgsqlCommand("SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user", source))
        {
            var super = (bool)(await check.ExecuteScalarAsync(cancellationToken))!;
            query = "SELECT " + string.Format(CultureInfo.InvariantCulture, columns, super ? "a.rolpassword" : "NULL::text")
                + string.Format(CultureInfo.InvariantCulture, from, super ? "JOIN pg_catalog.pg_authid a ON a.oid = r.oid" : "");
            if (!super)
                warn("not a superuser on the source: roles are written without their passwords");
        }
        var roles = new List<Role>();
        await using var command = new NpgsqlCommand(query, source);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            roles.Add(new Role(reader.GetString(0), reader.GetBoolean(1), reader.GetBoolean(2), reader.GetBoolean(3), reader.GetBoolean(4),
                reader.GetBoolean(5), reader.GetBoolean(6), reader.GetBoolean(7), reader.GetInt32(8),
                reader.IsDBNull(9) ? null : reader.GetString(9), reader.IsDBNull(10) ? null : reader.GetFieldValue<DateTime>(10)));
        }
        return roles;
    }

    private static async Task<List<(string Role, string Member, bool Admin)>> ReadMembershipsAsync(NpgsqlConnection source, CancellationToken cancellationToken)
    {
        const string query = """
            SELECT r.rolname, m.rolname, bool_or(am.admin_option)
            FROM pg_catalog.pg_auth_members am
            JOIN pg_catalog.pg_roles r ON r.oid = am.roleid
            JOIN pg_catalog.pg_roles m ON m.oid = am.member
            WHERE m.rolname !~ '^pg_' AND m.oid <> 10
            GROUP BY 1, 2 ORDER BY 1, 2
            """;
        var memberships = new List<(string, string, bool)>();
        await using var command = new NpgsqlCommand(query, source);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            memberships.Add((reader.GetString(0), reader.GetString(1), reader.GetBoolean(2)));
        return memberships;
    }

    public static string QuoteIdentifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    public static string QuoteLiteral(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
}
