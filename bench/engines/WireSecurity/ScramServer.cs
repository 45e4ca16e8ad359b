using System.Security.Cryptography;
using System.Text;

namespace WireSecurity;

/// <summary>A SCRAM-SHA-256 secret as Postgres stores it in pg_authid.rolpassword.</summary>
internal sealed record ScramSecret(int Iterations, byte[] Salt, byte[] StoredKey, byte[] ServerKey)
{
    /// <summary>Parses <c>SCRAM-SHA-256$iterations:salt$StoredKey:ServerKey</c>; null for md5 / plain / NULL passwords.</summary>
    public static ScramSecret? TryParse(string? rolpassword)
    {
        if (rolpassword is null || !rolpassword.StartsWith("SCRAM-SHA-256$", StringComparison.Ordinal))
            return null;
        var parts = rolpassword["SCRAM-SHA-256$".Length..].Split('$');
        if (parts.Length != 2)
            return null;
        var iterSalt = parts[0].Split(':');
        var keys = parts[1].Split(':');
        if (iterSalt.Length != 2 || keys.Length != 2 || !int.TryParse(iterSalt[0], out var iterations))
            return null;
        try
        {
            return new ScramSecret(iterations, Convert.FromBase64String(iterSalt[1]), Convert.FromBase64String(keys[0]), Convert.FromBase64String(keys[1]));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>What Postgres would store for this password (used for the mock exchange and tests).</summary>
    public static ScramSecret Create(string password, byte[] salt, int iterations = 4096)
    {
        var salted = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, 32);
        var clientKey = HMACSHA256.HashData(salted, "Client Key"u8);
        return new ScramSecret(iterations, salt, SHA256.HashData(clientKey), HMACSHA256.HashData(salted, "Server Key"u8));
    }
}

/// <summary>An authentication failure, with Postgres's SQLSTATE and text (sent as FATAL).</summary>
internal sealed class AuthFailure(string sqlState, string message, string? detail = null) : Exception(message)
{
    public string SqlState { get; } = sqlState;
    public string? Detail { get; } = detail;
}

/// <summary>
/// The server side of SCRAM-SHA-256 and SCRAM-SHA-256-PLUS (RFC 5802 / 7677) as Postgres implements it
/// (src/backend/libpq/auth-scram.c): the user name in the SCRAM message is ignored (the startup
/// packet's counts), no authzid, channel binding type tls-server-end-point only, and an unknown role or
/// a role without a SCRAM secret goes through a mock exchange and fails like a wrong password, so the
/// reply does not reveal which roles exist.
/// </summary>
internal sealed class ScramServer
{
    public const string Sha256 = "SCRAM-SHA-256";
    public const string Sha256Plus = "SCRAM-SHA-256-PLUS";
    private static readonly byte[] MockKey = RandomNumberGenerator.GetBytes(32);

    private readonly string _user;
    private readonly ScramSecret _secret;
    private readonly bool _real;
    private readonly byte[]? _channelBinding;
    private string _gs2Header = "";
    private string _clientFirstBare = "";
    private string _serverFirst = "";
    private string _nonce = "";

    /// <param name="channelBinding">tls-server-end-point data (hash of the server certificate) on TLS, else null.</param>
    public ScramServer(string user, string? rolpassword, byte[]? channelBinding)
    {
        _user = user;
        _channelBinding = channelBinding;
        var secret = ScramSecret.TryParse(rolpassword);
        _real = secret is not null;
        _secret = secret ?? ScramSecret.Create(Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)), HMACSHA256.HashData(MockKey, Encoding.UTF8.GetBytes(user))[..16]);
    }

    /// <summary>Mechanisms for AuthenticationSASL: -PLUS first, and only on TLS.</summary>
    public static string[] Mechanisms(bool tls) => tls ? [Sha256Plus, Sha256] : [Sha256];

    /// <summary>SASLInitialResponse: returns the server-first-message.</summary>
    public string First(string mechanism, string clientFirst)
    {
        var plus = mechanism == Sha256Plus && _channelBinding is not null;
        if (!plus && mechanism != Sha256)
            throw new AuthFailure("08P01", "client selected an invalid SASL authentication mechanism");
        // gs2-header: cbind flag, then authzid (unsupported), each followed by ','
        var first = clientFirst.IndexOf(',');
        var second = first < 0 ? -1 : clientFirst.IndexOf(',', first + 1);
        if (second < 0)
            throw Malformed("Comma expected, but found end of string.");
        var flag = clientFirst[..first];
        if (clientFirst[(first + 1)..second].Length != 0)
            throw new AuthFailure("0A000", "client uses authorization identity, but it is not supported");
        // The checks and texts of read_client_first_message in auth-scram.c.
        switch (flag)
        {
            case "n" or "y" when plus:
                throw Malformed("The client selected SCRAM-SHA-256-PLUS, but the SCRAM message does not include channel binding data.");
            case "y" when _channelBinding is not null:
                throw new AuthFailure("08P01", "SCRAM channel binding negotiation error",
                    "The client supports SCRAM channel binding but thinks the server does not.  However, this server does support channel binding.");
            case "n" or "y":
                break;
            case "p=tls-server-end-point" when plus:
                break;
            default:
                if (!flag.StartsWith("p=", StringComparison.Ordinal))
                    throw Malformed($"Unexpected channel-binding flag \"{Sanitize(flag)}\".");
                if (!plus)
                    throw Malformed("The client selected SCRAM-SHA-256 without channel binding, but the SCRAM message includes channel binding data.");
                throw new AuthFailure("08P01", $"unsupported SCRAM channel-binding type \"{Sanitize(flag[2..])}\"");
        }
        _gs2Header = clientFirst[..(second + 1)];
        _clientFirstBare = clientFirst[(second + 1)..];
        var clientNonce = Attribute(_clientFirstBare, 'r') ?? throw Malformed("Attribute expected, but found end of string.");
        _nonce = clientNonce + Convert.ToBase64String(RandomNumberGenerator.GetBytes(18));
        _serverFirst = $"r={_nonce},s={Convert.ToBase64String(_secret.Salt)},i={_secret.Iterations}";
        return _serverFirst;
    }

    /// <summary>SASLResponse with the client-final-message: returns the server-final-message ("v=...").</summary>
    public string Final(string clientFinal)
    {
        var proofAt = clientFinal.LastIndexOf(",p=", StringComparison.Ordinal);
        if (proofAt < 0)
            throw Malformed("Proof expected.");
        var withoutProof = clientFinal[..proofAt];
        var binding = Attribute(withoutProof, 'c') ?? throw Malformed("Attribute expected.");
        var expected = Encoding.ASCII.GetBytes(_gs2Header).Concat(_gs2Header.StartsWith("p=", StringComparison.Ordinal) ? _channelBinding! : []).ToArray();
        if (binding != Convert.ToBase64String(expected))
            throw new AuthFailure("08P01", "SCRAM channel binding check failed");
        if (Attribute(withoutProof, 'r') != _nonce)
            throw Malformed("Nonce does not match.");
        byte[] proof;
        try
        {
            proof = Convert.FromBase64String(clientFinal[(proofAt + 3)..]);
        }
        catch (FormatException)
        {
            throw Malformed("Malformed proof in client-final-message.");
        }
        var authMessage = Encoding.UTF8.GetBytes($"{_clientFirstBare},{_serverFirst},{withoutProof}");
        var clientSignature = HMACSHA256.HashData(_secret.StoredKey, authMessage);
        if (proof.Length != clientSignature.Length)
            throw Malformed("Malformed proof in client-final-message.");
        var clientKey = new byte[proof.Length];
        for (var i = 0; i < proof.Length; i++)
            clientKey[i] = (byte)(proof[i] ^ clientSignature[i]);
        if (!_real || !CryptographicOperations.FixedTimeEquals(SHA256.HashData(clientKey), _secret.StoredKey))
            throw new AuthFailure("28P01", $"password authentication failed for user \"{_user}\"");
        return "v=" + Convert.ToBase64String(HMACSHA256.HashData(_secret.ServerKey, authMessage));
    }

    private static string? Attribute(string message, char name)
    {
        foreach (var part in message.Split(','))
            if (part.Length >= 2 && part[0] == name && part[1] == '=')
                return part[2..];
        return null;
    }

    private static AuthFailure Malformed(string detail) => new("08P01", "malformed SCRAM message", detail);

    private static string Sanitize(string s) => s.Length > 30 ? s[..30] : s;
}
