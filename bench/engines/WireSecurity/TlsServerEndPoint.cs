using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace WireSecurity;

/// <summary>
/// Channel binding data of type tls-server-end-point (RFC 5929 section 4.1), as Postgres computes it
/// (be_tls_get_certificate_hash): the hash of the server certificate's DER encoding with the hash
/// algorithm of its signature, SHA-256 when that is MD5 or SHA-1.
/// </summary>
internal static class TlsServerEndPoint
{
    public static byte[] Hash(X509Certificate2 certificate)
    {
        var der = certificate.RawData;
        return certificate.SignatureAlgorithm.Value switch
        {
            "1.2.840.113549.1.1.12" or "1.2.840.10045.4.3.3" => SHA384.HashData(der),   // sha384RSA, ecdsa-with-SHA384
            "1.2.840.113549.1.1.13" or "1.2.840.10045.4.3.4" => SHA512.HashData(der),   // sha512RSA, ecdsa-with-SHA512
            "1.2.840.113549.1.1.11" or "1.2.840.10045.4.3.2"                             // sha256RSA, ecdsa-with-SHA256
                or "1.2.840.113549.1.1.5" or "1.2.840.10045.4.1"                         // sha1RSA, ecdsa-with-SHA1
                or "1.2.840.113549.1.1.4" => SHA256.HashData(der),                       // md5RSA
            var other => throw new NotSupportedException($"no tls-server-end-point hash for signature algorithm {other}"),
        };
    }
}
