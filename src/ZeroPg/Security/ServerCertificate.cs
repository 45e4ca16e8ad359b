using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ZeroPg.Security;

/// <summary>The TLS certificate: loaded from PEM files, or made once and kept for <c>--tls self-signed</c>.</summary>
internal static class ServerCertificate
{
    public const string CertificateFileName = "server.crt";
    public const string KeyFileName = "server.key";

    public static X509Certificate2 Load(string certificateFile, string keyFile)
    {
        using var pem = X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
        // An ephemeral key from PEM works with SslStream on Linux but not everywhere: a PKCS#12 round trip makes it usable anywhere.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>
    /// The self-signed certificate kept in <paramref name="directory"/> (server.crt and server.key, the key
    /// readable by its owner only), made on first use for localhost, the host name and the listen address.
    /// A client verifies it by pointing its root certificate at server.crt (sslrootcert, Root Certificate).
    /// </summary>
    public static X509Certificate2 SelfSigned(string directory, string host)
    {
        var certificateFile = Path.Combine(directory, CertificateFileName);
        var keyFile = Path.Combine(directory, KeyFileName);
        if (File.Exists(certificateFile) && File.Exists(keyFile))
        {
            var kept = Load(certificateFile, keyFile);
            if (kept.NotAfter > DateTime.Now.AddDays(1))
                return kept;
        }
        Directory.CreateDirectory(directory);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost, O=ZeroPg", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddDnsName(Dns.GetHostName());
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        if (IPAddress.TryParse(host.Trim('[', ']'), out var address) && !address.Equals(IPAddress.Any) && !address.Equals(IPAddress.IPv6Any) && !IPAddress.IsLoopback(address))
            names.AddIpAddress(address);
        else if (host != "*" && !IPAddress.TryParse(host.Trim('[', ']'), out _) && !string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
            names.AddDnsName(host);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyCertSign, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.Now.AddMinutes(-5), DateTimeOffset.Now.AddYears(10));
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(certificateFile, certificate.ExportCertificatePem());
        return Load(certificateFile, keyFile);
    }
}
