using System.Security.Cryptography;
using System.Text;
using ZeroPg.Protocol;
using ZeroPg.Security;

namespace ZeroPg.Tests.Security;

/// <summary>The server side of SCRAM-SHA-256 against a client computed here from RFC 5802's formulas.</summary>
public sealed class ScramExchangeTests
{
    private static readonly byte[] Salt = Convert.FromBase64String("W22ZaJ0SNY7soEsUEjb6gQ==");

    [Fact]
    public void The_engine_verifier_format_round_trips_and_matches_rfc7677()
    {
        // RFC 7677's test vector: password "pencil", this salt, 4096 iterations.
        var secret = ScramSecret.Create("pencil", Salt, 4096);
        Assert.Equal("WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=", Convert.ToBase64String(secret.StoredKey));
        Assert.Equal("wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=", Convert.ToBase64String(secret.ServerKey));
        Assert.Equal(secret.Text, ScramSecret.Parse(secret.Text)!.Text);
        Assert.Null(ScramSecret.Parse("md5c4ca4238a0b923820dcc509a6f75849b"));
        Assert.Null(ScramSecret.Parse(null));
    }

    [Fact]
    public void A_right_password_is_accepted_and_the_server_proves_it_knows_the_verifier()
    {
        var exchange = new ScramExchange("alice", ScramSecret.Create("pencil", Salt, 4096), channelBinding: null);
        var client = new Client("pencil", "n,,");
        var final = exchange.Finish(client.Final(exchange.Begin(ScramExchange.Mechanism, client.First)));
        Assert.Equal(client.ExpectedServerFinal, final);
    }

    [Fact]
    public void A_wrong_password_and_a_missing_role_fail_alike_with_28P01()
    {
        var wrong = Assert.Throws<PgErrorException>(() => Run(new ScramExchange("alice", ScramSecret.Create("pencil", Salt, 4096), null), "crayon"));
        var missing = Assert.Throws<PgErrorException>(() => Run(new ScramExchange("alice", ScramSecret.Mock("alice", new byte[32]), null), "pencil"));
        foreach (var error in new[] { wrong, missing })
        {
            Assert.Equal(SqlState.InvalidPassword, error.Error.SqlState);
            Assert.Equal("password authentication failed for user \"alice\"", error.Error.Message);
            Assert.True(error.Error.IsFatal);
        }
    }

    [Fact]
    public void Channel_binding_must_match_the_connection_certificate()
    {
        var certificateHash = SHA256.HashData("certificate"u8);
        var secret = ScramSecret.Create("pencil", Salt, 4096);
        var bound = new ScramExchange("alice", secret, certificateHash);
        var client = new Client("pencil", "p=tls-server-end-point,,", certificateHash);
        var final = bound.Finish(client.Final(bound.Begin(ScramExchange.MechanismPlus, client.First)));
        Assert.Equal(client.ExpectedServerFinal, final);

        var other = new ScramExchange("alice", secret, certificateHash);
        var forged = new Client("pencil", "p=tls-server-end-point,,", SHA256.HashData("another"u8));
        var error = Assert.Throws<PgErrorException>(() => other.Finish(forged.Final(other.Begin(ScramExchange.MechanismPlus, forged.First))));
        Assert.Equal(SqlState.InvalidAuthorizationSpecification, error.Error.SqlState);
        Assert.Equal("SCRAM channel binding check failed", error.Error.Message);

        // "y": the client could bind but was told the server cannot (a stripped -PLUS): refused over TLS.
        var downgraded = Assert.Throws<PgErrorException>(() => new ScramExchange("alice", secret, certificateHash).Begin(ScramExchange.Mechanism, new Client("pencil", "y,,").First));
        Assert.Equal("SCRAM channel binding negotiation error", downgraded.Error.Message);
        Assert.Equal([ScramExchange.MechanismPlus, ScramExchange.Mechanism], ScramExchange.Mechanisms(tls: true));
        Assert.Equal([ScramExchange.Mechanism], ScramExchange.Mechanisms(tls: false));
    }

    [Theory]
    [InlineData("x")]
    [InlineData("n,,r=abc")]
    [InlineData("n,,n=,")]
    [InlineData("q,,n=,r=abc")]
    public void Malformed_first_messages_get_08P01(string first)
    {
        var error = Assert.Throws<PgErrorException>(() => new ScramExchange("alice", ScramSecret.Create("pencil", Salt, 4096), null).Begin(ScramExchange.Mechanism, Encoding.UTF8.GetBytes(first)));
        Assert.Equal(SqlState.ProtocolViolation, error.Error.SqlState);
    }

    [Fact]
    public void A_final_message_with_another_nonce_is_refused()
    {
        var exchange = new ScramExchange("alice", ScramSecret.Create("pencil", Salt, 4096), null);
        exchange.Begin(ScramExchange.Mechanism, "n,,n=,r=abc"u8);
        var error = Assert.Throws<PgErrorException>(() => exchange.Finish("c=biws,r=abcdef,p=AAAA"u8));
        Assert.Equal(SqlState.ProtocolViolation, error.Error.SqlState);
    }

    private static string Run(ScramExchange exchange, string password)
    {
        var client = new Client(password, "n,,");
        return exchange.Finish(client.Final(exchange.Begin(ScramExchange.Mechanism, client.First)));
    }

    /// <summary>A SCRAM-SHA-256 client as RFC 5802 section 3 defines it.</summary>
    private sealed class Client(string password, string gs2Header, byte[]? channelBinding = null)
    {
        private readonly string _bare = "n=,r=" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(18));
        private byte[]? _serverSignature;

        public byte[] First => Encoding.UTF8.GetBytes(gs2Header + _bare);

        public string ExpectedServerFinal => "v=" + Convert.ToBase64String(_serverSignature!);

        public byte[] Final(string serverFirst)
        {
            var parts = serverFirst.Split(',').ToDictionary(p => p[0], p => p[2..]);
            var salted = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), Convert.FromBase64String(parts['s']), int.Parse(parts['i']), HashAlgorithmName.SHA256, 32);
            var clientKey = HMACSHA256.HashData(salted, "Client Key"u8);
            var binding = Convert.ToBase64String([.. Encoding.UTF8.GetBytes(gs2Header), .. channelBinding ?? []]);
            var withoutProof = $"c={binding},r={parts['r']}";
            var authMessage = Encoding.UTF8.GetBytes($"{_bare},{serverFirst},{withoutProof}");
            var signature = HMACSHA256.HashData(SHA256.HashData(clientKey), authMessage);
            var proof = clientKey.Zip(signature, (a, b) => (byte)(a ^ b)).ToArray();
            _serverSignature = HMACSHA256.HashData(HMACSHA256.HashData(salted, "Server Key"u8), authMessage);
            return Encoding.UTF8.GetBytes($"{withoutProof},p={Convert.ToBase64String(proof)}");
        }
    }
}
