using System.Net;

namespace ZeroPg.Security;

/// <summary>Who may connect and how (authentication, TLS). Part of <see cref="ZeroPgOptions"/>.</summary>
public sealed class SecurityOptions
{
    /// <summary>The value of <see cref="TlsCertificateFile"/> that makes and keeps a self-signed certificate.</summary>
    public const string SelfSigned = "self-signed";

    /// <summary>Authentication method; see <see cref="AuthenticationMethod.Default"/>.</summary>
    public AuthenticationMethod Authentication { get; set; } = AuthenticationMethod.Default;

    /// <summary>
    /// The superuser role clients are given (the Postgres image's POSTGRES_USER): created at start when it does not
    /// exist; <see cref="Password"/> is its password. The engine's own role stays <c>postgres</c>.
    /// </summary>
    public string User { get; set; } = BootstrapRole.DefaultUser;

    /// <summary>The password of the <see cref="User"/> role, set at start (as the Postgres image's POSTGRES_PASSWORD); turns on SCRAM by default.</summary>
    public string? Password { get; set; }

    /// <summary>A PEM certificate (chain) for TLS, or <see cref="SelfSigned"/>; null answers SSLRequest with 'N'.</summary>
    public string? TlsCertificateFile { get; set; }

    /// <summary>The PEM private key of <see cref="TlsCertificateFile"/> (may be the same file).</summary>
    public string? TlsKeyFile { get; set; }

    public bool TlsEnabled => TlsCertificateFile is not null;

    /// <summary>The method in force: <see cref="AuthenticationMethod.Default"/> resolved by whether a password is set.</summary>
    public AuthenticationMethod Effective => Authentication switch
    {
        AuthenticationMethod.Default => Password is null ? AuthenticationMethod.Trust : AuthenticationMethod.ScramSha256,
        var method => method,
    };

    public void Validate(string host, bool tcp)
    {
        if (!Enum.IsDefined(Authentication))
            throw new ArgumentException($"Authentication {Authentication} is not a known method.");
        if (string.IsNullOrWhiteSpace(User) || User.Length > 63)
            throw new ArgumentException("The user must be a role name of 1 to 63 characters.");
        if (Password is { Length: 0 })
            throw new ArgumentException("The password must not be empty.");
        if (TlsCertificateFile is not null && TlsCertificateFile != SelfSigned && TlsKeyFile is null)
            throw new ArgumentException("A TLS certificate needs its key (--tls-key FILE).");
        if (TlsKeyFile is not null && TlsCertificateFile is null)
            throw new ArgumentException("A TLS key needs its certificate (--tls-cert FILE).");
        foreach (var file in new[] { TlsCertificateFile, TlsKeyFile })
        {
            if (file is not null && file != SelfSigned && !File.Exists(file))
                throw new ArgumentException($"TLS file {file} does not exist.");
        }
        // The official Postgres image refuses to start without a password unless trust is asked for explicitly.
        if (tcp && Authentication == AuthenticationMethod.Default && Password is null && !IsLoopback(host))
            throw new ArgumentException(
                $"Listening on {host} without a password would let anyone who reaches the port in as any role. " +
                "Set a password (--password, ZEROPG_PASSWORD or POSTGRES_PASSWORD) or choose --auth trust explicitly.");
    }

    private static bool IsLoopback(string host)
    {
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
            return true;
        return IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address);
    }
}
