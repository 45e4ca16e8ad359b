namespace ZeroPg.Engine.Pooled;

/// <summary>How backends reach a Postgres over TCP: sslmode as libpq names them (disable, prefer, require, verify-ca, verify-full).</summary>
internal enum UpstreamTls : byte
{
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// <summary>
/// <c>--upstream postgresql://user:password@host:port/database?sslmode=require</c>, read once at start: where the pooled backends
/// connect, as whom, and with what TLS. A bad URL fails the start with what is wrong.
/// </summary>
internal sealed record UpstreamUrl(string Host, int Port, string User, string? Password, string Database, UpstreamTls Tls, string? RootCertificate)
{
    public static UpstreamUrl Parse(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("postgresql" or "postgres"))
            throw new ArgumentException($"--upstream must be a postgresql:// URL (postgresql://user:password@host:5432/database?sslmode=require), not \"{text}\".");
        var user = "postgres";
        string? password = null;
        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':');
            user = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            password = colon < 0 ? null : Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
        }
        var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        var query = System.Web.HttpUtility.ParseQueryString(uri.Query);
        var tls = (query["sslmode"] ?? "prefer") switch
        {
            "disable" => UpstreamTls.Disable,
            "allow" or "prefer" => UpstreamTls.Prefer,
            "require" => UpstreamTls.Require,
            "verify-ca" => UpstreamTls.VerifyCa,
            "verify-full" => UpstreamTls.VerifyFull,
            var other => throw new ArgumentException($"--upstream: sslmode \"{other}\" is not one of disable, prefer, require, verify-ca, verify-full."),
        };
        return new UpstreamUrl(uri.Host.Trim('[', ']'), uri.Port > 0 ? uri.Port : 5432, user, password,
            database.Length > 0 ? database : user, tls, query["sslrootcert"]);
    }

    /// <summary>For logs and graduate's output: the URL without its password.</summary>
    public override string ToString() => $"postgresql://{User}@{Host}:{Port}/{Database}?sslmode={Tls.ToString().ToLowerInvariant()}";
}
