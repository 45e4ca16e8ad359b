using System.Security.Cryptography;
using System.Text;

namespace ZeroPg.Security;

/// <summary>
/// The server side of one SCRAM-SHA-256 exchange (RFC 5802/7677, as Postgres's auth-scram.c runs it): the
/// client's first message gets the salt, iterations and a nonce; its final message's proof is checked against
/// the stored verifier, and the server proves it knows the verifier too. With TLS, SCRAM-SHA-256-PLUS binds
/// the exchange to the connection (tls-server-end-point). Pure: no I/O, so it is tested alone.
/// Failures are <see cref="ScramFailure"/>s (FATAL); a wrong password fails only at the final message, so an
/// unknown role is not told apart from a wrong password.
/// </summary>
internal sealed class ScramExchange
{
    public const string Mechanism = "SCRAM-SHA-256";
    public const string MechanismPlus = "SCRAM-SHA-256-PLUS";
    private const string BindingType = "tls-server-end-point";

    private readonly string _user;
    private readonly ScramSecret _secret;
    private readonly byte[]? _channelBinding;
    private string? _gs2Header;
    private string? _clientFirstBare;
    private string? _serverFirst;
    private string? _nonce;
    private bool _plus;

    /// <param name="user">The role of the startup packet (SCRAM's own user name is ignored, as in Postgres).</param>
    /// <param name="secret">The role's verifier, or a <see cref="ScramSecret.Mock"/> when it has none.</param>
    /// <param name="channelBinding">The TLS certificate hash when the connection is TLS, else null.</param>
    public ScramExchange(string user, ScramSecret secret, byte[]? channelBinding)
    {
        _user = user;
        _secret = secret;
        _channelBinding = channelBinding;
    }

    /// <summary>The mechanisms to offer in AuthenticationSASL, strongest first.</summary>
    public static IReadOnlyList<string> Mechanisms(bool tls) => tls ? [MechanismPlus, Mechanism] : [Mechanism];

    /// <summary>Takes SASLInitialResponse; returns the server-first-message.</summary>
    public string Begin(string mechanism, ReadOnlySpan<byte> clientFirst)
    {
        if (mechanism == MechanismPlus && _channelBinding is not null)
            _plus = true;
        else if (mechanism != Mechanism)
            throw ScramFailure.Unsupported($"client selected an invalid SASL authentication mechanism \"{mechanism}\"");
        var text = Utf8(clientFirst);
        // gs2-header: cbind-flag "," [authzid] ","
        var first = text.IndexOf(',');
        var second = first < 0 ? -1 : text.IndexOf(',', first + 1);
        if (second < 0)
            throw ScramFailure.Malformed("The gs2 header of the client-first-message is incomplete.");
        var flag = text[..first];
        switch (flag)
        {
            case "n":
                if (_plus)
                    throw ScramFailure.ChannelBinding("malformed SCRAM message", "The client selected SCRAM-SHA-256-PLUS without channel binding.");
                break;
            case "y":
                // The client could bind but thinks the server cannot: with TLS here, someone stripped -PLUS (a downgrade).
                if (_channelBinding is not null)
                    throw ScramFailure.ChannelBinding("SCRAM channel binding negotiation error", "The client supports SCRAM channel binding but thinks the server does not. However, this server does support channel binding.");
                break;
            default:
                if (!flag.StartsWith("p=", StringComparison.Ordinal))
                    throw ScramFailure.Malformed($"Unexpected channel-binding flag \"{flag}\".");
                if (!_plus)
                    throw ScramFailure.ChannelBinding("malformed SCRAM message", "The client requires channel binding without selecting SCRAM-SHA-256-PLUS.");
                if (flag[2..] != BindingType)
                    throw ScramFailure.Unsupported($"unsupported SCRAM channel-binding type \"{flag[2..]}\"");
                break;
        }
        if (second > first + 1)
            throw ScramFailure.Unsupported("client uses authorization identity, but it is not supported");
        _gs2Header = text[..(second + 1)];
        _clientFirstBare = text[(second + 1)..];
        var attributes = Attributes(_clientFirstBare);
        if (attributes.Count < 2 || attributes[0].Key != 'n' || attributes[1].Key != 'r')
            throw ScramFailure.Malformed("Expected attributes \"n\" and \"r\" in the client-first-message.");
        if (attributes.Skip(2).Any(a => a.Key == 'm'))
            throw ScramFailure.Unsupported("client requires an unsupported SCRAM extension");
        var clientNonce = attributes[1].Value;
        if (clientNonce.Length == 0 || clientNonce.Any(c => c is < '!' or > '~' or ','))
            throw ScramFailure.Malformed("The client nonce is empty or has characters SCRAM does not allow.");
        _nonce = clientNonce + Convert.ToBase64String(RandomNumberGenerator.GetBytes(18));
        _serverFirst = $"r={_nonce},s={Convert.ToBase64String(_secret.Salt)},i={_secret.Iterations}";
        return _serverFirst;
    }

    /// <summary>Takes the client-final-message; returns the server-final-message when the proof is right.</summary>
    public string Finish(ReadOnlySpan<byte> clientFinal)
    {
        if (_serverFirst is null)
            throw ScramFailure.Malformed("The client-final-message came before the client-first-message.");
        var text = Utf8(clientFinal);
        var attributes = Attributes(text);
        if (attributes.Count < 3 || attributes[0].Key != 'c' || attributes[1].Key != 'r' || attributes[^1].Key != 'p')
            throw ScramFailure.Malformed("Expected attributes \"c\", \"r\" and \"p\" in the client-final-message.");
        var expectedBinding = Encoding.UTF8.GetBytes(_gs2Header!);
        if (_plus)
            expectedBinding = [.. expectedBinding, .. _channelBinding!];
        if (!FixedTimeEquals(Base64(attributes[0].Value, "channel binding"), expectedBinding))
            throw _plus
                ? ScramFailure.ChannelBinding("SCRAM channel binding check failed", "The client's channel-binding data does not match this TLS connection.")
                : ScramFailure.Malformed("Unexpected SCRAM channel-binding attribute in the client-final-message.");
        if (attributes[1].Value != _nonce)
            throw ScramFailure.Malformed("The nonce of the client-final-message does not match.");
        var proof = Base64(attributes[^1].Value, "proof");
        var withoutProof = text[..text.LastIndexOf(",p=", StringComparison.Ordinal)];
        var authMessage = Encoding.UTF8.GetBytes($"{_clientFirstBare},{_serverFirst},{withoutProof}");
        var clientSignature = HMACSHA256.HashData(_secret.StoredKey, authMessage);
        if (_secret.IsMock || proof.Length != clientSignature.Length)
            throw ScramFailure.PasswordFailed(_user);
        var clientKey = new byte[proof.Length];
        for (var i = 0; i < proof.Length; i++)
            clientKey[i] = (byte)(proof[i] ^ clientSignature[i]);
        if (!CryptographicOperations.FixedTimeEquals(SHA256.HashData(clientKey), _secret.StoredKey))
            throw ScramFailure.PasswordFailed(_user);
        return "v=" + Convert.ToBase64String(HMACSHA256.HashData(_secret.ServerKey, authMessage));
    }

    private static List<KeyValuePair<char, string>> Attributes(string text)
    {
        var list = new List<KeyValuePair<char, string>>();
        foreach (var part in text.Split(','))
        {
            if (part.Length < 2 || part[1] != '=' || !char.IsAsciiLetter(part[0]))
                throw ScramFailure.Malformed($"Attribute expected, but found \"{part}\".");
            list.Add(new(part[0], part[2..]));
        }
        return list;
    }

    private static byte[] Base64(string value, string what)
    {
        try
        {
            return Convert.FromBase64String(value);
        }
        catch (FormatException)
        {
            throw ScramFailure.Malformed($"The {what} is not valid base64.");
        }
    }

    private static string Utf8(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (ArgumentException)
        {
            throw ScramFailure.Malformed("The message is not valid UTF-8.");
        }
    }

    private static bool FixedTimeEquals(byte[] a, byte[] b) => CryptographicOperations.FixedTimeEquals(a, b);
}
