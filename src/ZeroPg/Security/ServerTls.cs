using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace ZeroPg.Security;

/// <summary>
/// The server's TLS identity, loaded (or made) once at start so a bad certificate fails the start, not the
/// first client: the certificate, its SslStream settings (TLS 1.2/1.3, ALPN "postgresql" for Postgres 17's
/// direct TLS) and its channel-binding hash. <see cref="IsEnabled"/> is false without a certificate.
/// </summary>
internal sealed class ServerTls
{
    /// <summary>The ALPN protocol Postgres 17+ clients ask for with sslnegotiation=direct.</summary>
    public static readonly SslApplicationProtocol Alpn = new("postgresql");

    private ServerTls(X509Certificate2? certificate)
    {
        Certificate = certificate;
        ChannelBindingHash = certificate is null ? null : ChannelBinding.ServerEndPoint(certificate);
    }

    public X509Certificate2? Certificate { get; }

    public byte[]? ChannelBindingHash { get; }

    public bool IsEnabled => Certificate is not null;

    public static ServerTls From(ZeroPgOptions options)
    {
        var security = options.Security;
        if (!security.TlsEnabled)
            return new ServerTls(null);
        if (security.TlsCertificateFile == SecurityOptions.SelfSigned)
            return new ServerTls(ServerCertificate.SelfSigned(SelfSignedDirectory(options), options.Host));
        return new ServerTls(ServerCertificate.Load(security.TlsCertificateFile!, security.TlsKeyFile!));
    }

    /// <summary>The self-signed certificate file clients should trust, for <c>--tls self-signed</c>.</summary>
    public static string? SelfSignedCertificateFile(ZeroPgOptions options)
        => options.Security.TlsCertificateFile != SecurityOptions.SelfSigned ? null
            : Path.Combine(SelfSignedDirectory(options), ServerCertificate.CertificateFileName);

    /// <summary>Where the self-signed certificate is kept: the data directory (as Postgres keeps server.crt), or the cache directory for memory://.</summary>
    private static string SelfSignedDirectory(ZeroPgOptions options) => options.IsMemory
        ? Path.Combine(Storage.SnapshotCache.RootDirectory(options.SnapshotCacheDirectory), "tls")
        : Path.GetFullPath(options.DataDirectory);

    public SslServerAuthenticationOptions AuthenticationOptions(bool direct) => new()
    {
        ServerCertificate = Certificate,
        EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        ClientCertificateRequired = false,
        // Direct TLS must carry ALPN "postgresql" (Postgres 17 refuses it otherwise); after SSLRequest ALPN is optional.
        ApplicationProtocols = direct ? [Alpn] : null,
    };
}
