using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ZeroPg.Security;

/// <summary>tls-server-end-point channel binding data (RFC 5929): a hash of the server's certificate.</summary>
internal static class ChannelBinding
{
    /// <summary>The certificate hashed with its signature's digest; MD5 and SHA-1 become SHA-256 (as RFC 5929 and Postgres say).</summary>
    public static byte[] ServerEndPoint(X509Certificate2 certificate)
    {
        var algorithm = certificate.SignatureAlgorithm.Value switch
        {
            "1.2.840.113549.1.1.12" or "1.2.840.10045.4.3.3" => HashAlgorithmName.SHA384,   // sha384WithRSA, ecdsa-with-SHA384
            "1.2.840.113549.1.1.13" or "1.2.840.10045.4.3.4" => HashAlgorithmName.SHA512,   // sha512WithRSA, ecdsa-with-SHA512
            _ => HashAlgorithmName.SHA256,
        };
        var der = certificate.RawData;
        return algorithm == HashAlgorithmName.SHA384 ? SHA384.HashData(der)
            : algorithm == HashAlgorithmName.SHA512 ? SHA512.HashData(der)
            : SHA256.HashData(der);
    }
}
