using System.Security.Cryptography;
using System.Text;

namespace ZeroPg.Security;

/// <summary>The client side of SCRAM-SHA-256 without channel binding (RFC 5802), for ZeroPg's own connections to itself.</summary>
internal sealed class ScramClient(string password)
{
    private readonly string _clientFirstBare = "n=,r=" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(18));
    private byte[]? _expectedServerSignature;

    public byte[] First() => Encoding.UTF8.GetBytes("n,," + _clientFirstBare);

    public byte[] Final(string serverFirst)
    {
        var attributes = serverFirst.Split(',').Where(p => p.Length > 2).ToDictionary(p => p[0], p => p[2..]);
        var salted = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), Convert.FromBase64String(attributes['s']),
            int.Parse(attributes['i'], System.Globalization.CultureInfo.InvariantCulture), HashAlgorithmName.SHA256, 32);
        var clientKey = HMACSHA256.HashData(salted, "Client Key"u8);
        var withoutProof = $"c=biws,r={attributes['r']}"; // biws = base64("n,,")
        var authMessage = Encoding.UTF8.GetBytes($"{_clientFirstBare},{serverFirst},{withoutProof}");
        var signature = HMACSHA256.HashData(SHA256.HashData(clientKey), authMessage);
        var proof = new byte[clientKey.Length];
        for (var i = 0; i < proof.Length; i++)
            proof[i] = (byte)(clientKey[i] ^ signature[i]);
        _expectedServerSignature = HMACSHA256.HashData(HMACSHA256.HashData(salted, "Server Key"u8), authMessage);
        return Encoding.UTF8.GetBytes($"{withoutProof},p={Convert.ToBase64String(proof)}");
    }

    /// <summary>The server proved it knows the verifier.</summary>
    public bool Verify(string serverFinal)
        => _expectedServerSignature is not null && serverFinal == "v=" + Convert.ToBase64String(_expectedServerSignature);
}
