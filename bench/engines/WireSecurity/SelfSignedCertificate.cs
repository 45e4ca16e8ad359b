using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace WireSecurity;

/// <summary>
/// `--tls self-signed`: a certificate generated once and kept on disk (server.crt / server.key, key
/// mode 0600). It is its own root (CA:TRUE), so clients verify it with sslrootcert=server.crt, as the
/// Postgres docs' `openssl req -x509` recipe does; SANs cover localhost, 127.0.0.1, ::1 and the host name.
/// </summary>
internal static class SelfSignedCertificate
{
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public static X509Certificate2 LoadOrCreate(string directory)
    {
        var certPath = Path.Combine(directory, "server.crt");
        var keyPath = Path.Combine(directory, "server.key");
        if (!File.Exists(certPath) || !File.Exists(keyPath))
        {
            Directory.CreateDirectory(directory);
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=ZeroPg self-signed", key, HashAlgorithmName.SHA256);
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName("localhost");
            san.AddDnsName(Dns.GetHostName());
            san.AddIpAddress(IPAddress.Loopback);
            san.AddIpAddress(IPAddress.IPv6Loopback);
            request.CertificateExtensions.Add(san.Build());
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyCertSign, true));
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
            request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
            using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(10));
            // Written to temp files and renamed: a reader never sees half a key.
            WriteAtomically(keyPath, key.ExportPkcs8PrivateKeyPem(), UnixFileMode.UserRead | UnixFileMode.UserWrite);
            WriteAtomically(certPath, cert.ExportCertificatePem(), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }
        return Load(certPath, keyPath);
    }

    public static X509Certificate2 Load(string certPath, string keyPath)
    {
        using var pem = X509Certificate2.CreateFromPemFile(certPath, keyPath);
        // SslStream on Linux wants a certificate whose key is not ephemeral for TLS 1.3 session tickets; a PKCS#12 round trip gives one.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static void WriteAtomically(string path, string text, UnixFileMode mode)
    {
        var temp = $"{path}.{Environment.ProcessId}.tmp";
        File.WriteAllText(temp, text);
        File.SetUnixFileMode(temp, mode);
        File.Move(temp, path, overwrite: true);
    }
}
