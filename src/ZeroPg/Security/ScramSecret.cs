using System.Security.Cryptography;
using System.Text;

namespace ZeroPg.Security;

/// <summary>
/// A role's SCRAM-SHA-256 verifier as Postgres keeps it in pg_authid.rolpassword:
/// <c>SCRAM-SHA-256$iterations:salt$StoredKey:ServerKey</c> (base64 parts). The password itself is never stored.
/// </summary>
internal sealed record ScramSecret(int Iterations, byte[] Salt, byte[] StoredKey, byte[] ServerKey)
{
    private const string Prefix = "SCRAM-SHA-256$";

    /// <summary>The verifier in <paramref name="rolpassword"/>, or null for no password, an MD5 hash or anything else SCRAM cannot check.</summary>
    public static ScramSecret? Parse(string? rolpassword)
    {
        if (rolpassword is null || !rolpassword.StartsWith(Prefix, StringComparison.Ordinal))
            return null;
        var parts = rolpassword[Prefix.Length..].Split('$');
        if (parts.Length != 2)
            return null;
        var saltPart = parts[0].Split(':');
        var keys = parts[1].Split(':');
        if (saltPart.Length != 2 || keys.Length != 2 || !int.TryParse(saltPart[0], out var iterations) || iterations < 1)
            return null;
        try
        {
            var secret = new ScramSecret(iterations, Convert.FromBase64String(saltPart[1]), Convert.FromBase64String(keys[0]), Convert.FromBase64String(keys[1]));
            return secret.StoredKey.Length == 32 && secret.ServerKey.Length == 32 ? secret : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>The verifier of <paramref name="password"/> (what the engine computes for CREATE ROLE ... PASSWORD).</summary>
    public static ScramSecret Create(string password, byte[] salt, int iterations)
    {
        var salted = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, 32);
        var clientKey = HMACSHA256.HashData(salted, "Client Key"u8);
        return new ScramSecret(iterations, salt, SHA256.HashData(clientKey), HMACSHA256.HashData(salted, "Server Key"u8));
    }

    /// <summary>
    /// A stand-in for a role that does not exist or has no usable secret, so the exchange runs to its end and
    /// fails the same way as a wrong password (Postgres's mock authentication): the salt is stable per user
    /// name for this server, the keys match no password.
    /// </summary>
    public static ScramSecret Mock(string user, byte[] serverNonce)
    {
        var salt = SHA256.HashData([.. Encoding.UTF8.GetBytes(user), .. serverNonce])[..16];
        return new ScramSecret(4096, salt, RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32)) { IsMock = true };
    }

    /// <summary>True for <see cref="Mock"/>: no proof can match.</summary>
    public bool IsMock { get; private init; }

    public string Text => $"{Prefix}{Iterations}:{Convert.ToBase64String(Salt)}${Convert.ToBase64String(StoredKey)}:{Convert.ToBase64String(ServerKey)}";
}
