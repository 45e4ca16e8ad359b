using Npgsql;

namespace ZeroPg.Cli.Graduation;

/// <summary>
/// A libpq connection URL, <c>postgresql://user:password@host:port/dbname?sslmode=...</c> (also
/// <c>postgres://</c>; <c>?host=/dir</c> for a Unix socket directory), turned into what Npgsql and
/// pg_dump need. Missing parts come from PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE, then
/// libpq's defaults.
/// </summary>
internal sealed record PostgresUrl(string Host, int Port, string User, string Database, string? Password, string? SslMode)
{
    public static bool LooksLikeUrl(string value)
        => value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase);

    public static PostgresUrl Parse(string url)
    {
        if (!LooksLikeUrl(url))
            throw new FormatException($"'{url}' is not a postgresql:// URL");
        var rest = url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..];
        var query = "";
        if (rest.IndexOf('?') is var q and >= 0)
        {
            query = rest[(q + 1)..];
            rest = rest[..q];
        }
        var path = "";
        if (rest.IndexOf('/') is var slash and >= 0)
        {
            path = rest[(slash + 1)..];
            rest = rest[..slash];
        }
        string? user = null, password = null;
        if (rest.LastIndexOf('@') is var at and >= 0)
        {
            var credentials = rest[..at];
            rest = rest[(at + 1)..];
            if (credentials.IndexOf(':') is var colon and >= 0)
            {
                user = Uri.UnescapeDataString(credentials[..colon]);
                password = Uri.UnescapeDataString(credentials[(colon + 1)..]);
            }
            else
            {
                user = Uri.UnescapeDataString(credentials);
            }
        }
        string? host = null;
        int? port = null;
        if (rest.Length > 0)
        {
            var portAt = rest.StartsWith('[') ? rest.IndexOf("]:", StringComparison.Ordinal) + 1 : rest.LastIndexOf(':');
            if (portAt > 0)
            {
                port = ParsePort(rest[(portAt + 1)..], url);
                rest = rest[..portAt];
            }
            host = Uri.UnescapeDataString(rest.Trim('[', ']'));
        }
        var database = path.Length > 0 ? Uri.UnescapeDataString(path) : null;
        string? sslMode = null;
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            var key = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]);
            var value = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..]);
            switch (key)
            {
                case "host": host = value; break;
                case "port": port = ParsePort(value, url); break;
                case "user": user = value; break;
                case "password": password = value; break;
                case "dbname": database = value; break;
                case "sslmode": sslMode = value; break;
                default: break; // application_name, connect_timeout, ...: not needed here
            }
        }
        host ??= Environment.GetEnvironmentVariable("PGHOST") is { Length: > 0 } h ? h : "/var/run/postgresql";
        port ??= int.TryParse(Environment.GetEnvironmentVariable("PGPORT"), out var p) ? p : 5432;
        user ??= Environment.GetEnvironmentVariable("PGUSER") is { Length: > 0 } u ? u : Environment.UserName;
        database ??= Environment.GetEnvironmentVariable("PGDATABASE") is { Length: > 0 } d ? d : user;
        password ??= Environment.GetEnvironmentVariable("PGPASSWORD") is { Length: > 0 } pw ? pw : null;
        return new PostgresUrl(host, port.Value, user, database, password, sslMode);
    }

    private static int ParsePort(string text, string url)
        => int.TryParse(text, out var port) && port is > 0 and < 65536 ? port : throw new FormatException($"bad port '{text}' in {Redacted(url)}");

    public bool IsUnixSocket => Host.StartsWith('/');

    /// <summary>The socket file of a Unix-socket host, as libpq names it.</summary>
    public string SocketFile => Path.Combine(Host, $".s.PGSQL.{Port}");

    public NpgsqlConnectionStringBuilder ConnectionString(string applicationName)
    {
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = Host,
            Port = Port,
            Username = User,
            Database = Database,
            ApplicationName = applicationName,
            Pooling = false,
            Timeout = 30,
            CommandTimeout = 0,
            IncludeErrorDetail = true,
        };
        if (Password is not null)
            builder.Password = Password;
        if (SslMode is { Length: > 0 } mode)
            builder.SslMode = mode switch
            {
                "disable" => Npgsql.SslMode.Disable,
                "allow" => Npgsql.SslMode.Allow,
                "prefer" => Npgsql.SslMode.Prefer,
                "require" => Npgsql.SslMode.Require,
                "verify-ca" => Npgsql.SslMode.VerifyCA,
                "verify-full" => Npgsql.SslMode.VerifyFull,
                _ => throw new FormatException($"unknown sslmode '{mode}'"),
            };
        return builder;
    }

    /// <summary>The URL without its password, for messages.</summary>
    public override string ToString()
    {
        var host = IsUnixSocket ? "" : Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
        var query = IsUnixSocket ? $"?host={Uri.EscapeDataString(Host)}&port={Port}" : "";
        return $"postgresql://{Uri.EscapeDataString(User)}@{host}/{Uri.EscapeDataString(Database)}{query}";
    }

    public static string Redacted(string url)
        => System.Text.RegularExpressions.Regex.Replace(url, "(://[^:/@]*:)[^@]*@", "$1***@");
}
