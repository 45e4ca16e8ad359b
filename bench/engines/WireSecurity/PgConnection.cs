using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Connections;

namespace WireSecurity;

internal sealed class ServerState(EngineHost engine, X509Certificate2? certificate)
{
    public EngineHost Engine { get; } = engine;
    public X509Certificate2? Certificate { get; } = certificate;
    public byte[]? ChannelBinding { get; } = certificate is null ? null : TlsServerEndPoint.Hash(certificate);
}

/// <summary>
/// One client: TLS negotiation (SSLRequest, or direct TLS when the first byte is a TLS handshake
/// record), SCRAM against pg_authid, then its messages proxied to the engine in batches up to Sync /
/// Query. After TLS the connection's Transport is replaced by pipes over the SslStream, so everything
/// after negotiation reads the same pipe API whether or not the connection is encrypted.
/// </summary>
internal sealed class PgConnection(ServerState state) : ConnectionHandler
{
    private static readonly SslApplicationProtocol Postgresql = new("postgresql");

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        try
        {
            await RunAsync(connection);
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"connection {connection.ConnectionId}: {e.GetType().Name}: {e.Message}");
        }
    }

    private async Task RunAsync(ConnectionContext connection)
    {
        var tls = false;
        if (Environment.GetEnvironmentVariable("WS_DEBUG") == "1") Console.Error.WriteLine($"connection {connection.ConnectionId} from {connection.RemoteEndPoint}");
        // Direct TLS (Postgres 17+, sslnegotiation=direct): the client starts with a TLS ClientHello,
        // a handshake record (0x16); a startup packet starts with its length, whose first byte is 0.
        var peek = await connection.Transport.Input.ReadAsync();
        if (peek.Buffer.IsEmpty)
            return;
        var direct = peek.Buffer.FirstSpan[0] == 0x16;
        connection.Transport.Input.AdvanceTo(peek.Buffer.Start); // consume nothing, examine nothing
        if (direct)
        {
            if (state.Certificate is null)
                return; // no TLS configured: Postgres closes the connection
            var ssl = await HandshakeAsync(connection, requireAlpn: true);
            if (ssl is null)
                return;
            tls = true;
        }

        Dictionary<string, string> parameters;
        while (true)
        {
            var (code, body) = await ReadStartupAsync(connection.Transport.Input);
            if (code == Wire.SslRequestCode && !tls)
            {
                // Bytes already sent after the SSLRequest would be read as if they came over TLS (CVE-2021-23214).
                if (connection.Transport.Input.TryRead(out var extra))
                {
                    var stuffed = !extra.Buffer.IsEmpty;
                    connection.Transport.Input.AdvanceTo(extra.Buffer.Start);
                    if (stuffed)
                    {
                        await SendAsync(connection, Wire.Fatal("08P01", "received unencrypted data after SSL request",
                            "This could be either a client-software bug or evidence of an attempted man-in-the-middle attack."));
                        return;
                    }
                }
                if (state.Certificate is null)
                {
                    await SendAsync(connection, "N"u8.ToArray());
                    continue;
                }
                await SendAsync(connection, "S"u8.ToArray());
                if (await HandshakeAsync(connection, requireAlpn: false) is null)
                    return;
                tls = true;
                continue;
            }
            if (code == Wire.GssEncRequestCode)
            {
                await SendAsync(connection, "N"u8.ToArray());
                continue;
            }
            if (code != Wire.Protocol3)
                return;
            parameters = ParseParameters(body);
            break;
        }

        var user = parameters.GetValueOrDefault("user") ?? "";
        if (!await AuthenticateAsync(connection, user, tls))
            return;

        // Per-client login role in the shared engine session (the real server also pins
        // AuthenticatedUserId in the engine host: see authn-pin.mjs).
        await state.Engine.RunAsync(Wire.Query($"SET SESSION AUTHORIZATION {Wire.Identifier(user)}"));
        var superuser = (await state.Engine.QueryColumnAsync("select current_setting('is_superuser')"))[0];
        var startup = new MemoryStream();
        startup.Write(Wire.Auth(0));
        foreach (var (type, body) in Wire.Messages(state.Engine.StartupReply))
        {
            if (type == 'R')
                continue;
            if (type == 'S')
            {
                var name = Encoding.UTF8.GetString(body, 0, Array.IndexOf(body, (byte)0));
                if (name == "session_authorization")
                {
                    startup.Write(Wire.ParameterStatus(name, user));
                    continue;
                }
                if (name == "is_superuser")
                {
                    startup.Write(Wire.ParameterStatus(name, superuser ?? "off"));
                    continue;
                }
            }
            startup.Write(Wire.Message(type, body));
        }
        await SendAsync(connection, startup.ToArray());
        await ProxyAsync(connection);
    }

    private async Task<SslStream?> HandshakeAsync(ConnectionContext connection, bool requireAlpn)
    {
        var ssl = new SslStream(new DuplexPipeStream(connection.Transport), leaveInnerStreamOpen: false);
        await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
        {
            ServerCertificate = state.Certificate,
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            // A client that offers ALPN must offer "postgresql" (Postgres 17 refuses others).
            ApplicationProtocols = [Postgresql],
            ClientCertificateRequired = false,
        });
        connection.Transport = new DuplexPipe(PipeReader.Create(ssl), PipeWriter.Create(ssl));
        if (requireAlpn && ssl.NegotiatedApplicationProtocol != Postgresql)
        {
            await SendAsync(connection, Wire.Fatal("08P01", "received direct SSL connection request without ALPN protocol negotiation extension"));
            return null;
        }
        Console.Error.WriteLine($"TLS {(requireAlpn ? "direct" : "after SSLRequest")}: {ssl.SslProtocol}, {ssl.NegotiatedCipherSuite}, ALPN '{ssl.NegotiatedApplicationProtocol}'");
        return ssl;
    }

    private async Task<bool> AuthenticateAsync(ConnectionContext connection, string user, bool tls)
    {
        // What Postgres checks, read from the engine's own catalog.
        // The engine session may still be another client's role: the lookup runs as the superuser.
        var row = await state.Engine.QueryColumnAsync(
            $"SET SESSION AUTHORIZATION postgres; select coalesce(rolpassword, '') || '|' || rolcanlogin || '|' || coalesce(rolvaliduntil < now(), false) from pg_authid where rolname = {Wire.Literal(user)}");
        string? rolpassword = null;
        var canLogin = false;
        if (row.Count == 1 && row[0] is { } r)
        {
            var parts = r.Split('|');
            rolpassword = parts[2] == "true" ? null : parts[0]; // an expired password never matches
            canLogin = parts[1] == "true";
        }
        var scram = new ScramServer(user, rolpassword, tls ? state.ChannelBinding : null);
        await SendAsync(connection, Wire.AuthSasl(ScramServer.Mechanisms(tls)));
        try
        {
            var (type, initial) = await ReadMessageAsync(connection.Transport.Input);
            if (type != 'p')
                throw new AuthFailure("08P01", $"expected SASL response, got message type {(int)type}");
            var mechanismEnd = Array.IndexOf(initial, (byte)0);
            var mechanism = Encoding.UTF8.GetString(initial, 0, mechanismEnd);
            var length = BinaryPrimitives.ReadInt32BigEndian(initial.AsSpan(mechanismEnd + 1));
            var serverFirst = scram.First(mechanism, Encoding.UTF8.GetString(initial, mechanismEnd + 5, length));
            await SendAsync(connection, Wire.Auth(11, Encoding.UTF8.GetBytes(serverFirst)));
            (type, var final) = await ReadMessageAsync(connection.Transport.Input);
            if (type != 'p')
                throw new AuthFailure("08P01", $"expected SASL response, got message type {(int)type}");
            var serverFinal = scram.Final(Encoding.UTF8.GetString(final));
            if (!canLogin)
                throw new AuthFailure("28000", $"role \"{user}\" is not permitted to log in");
            await SendAsync(connection, Wire.Auth(12, Encoding.UTF8.GetBytes(serverFinal)));
            Console.Error.WriteLine($"authenticated {user} with {mechanism}");
            return true;
        }
        catch (AuthFailure failure)
        {
            await SendAsync(connection, Wire.Fatal(failure.SqlState, failure.Message, failure.Detail));
            return false;
        }
    }

    private async Task ProxyAsync(ConnectionContext connection)
    {
        var batch = new MemoryStream();
        while (true)
        {
            var (type, body) = await ReadMessageAsync(connection.Transport.Input);
            if (type is 'X' or '\0')
                return;
            batch.Write(Wire.Message(type, body));
            if (type is 'Q' or 'S' or 'H')
            {
                await SendAsync(connection, await state.Engine.RunAsync(batch.ToArray()));
                batch.SetLength(0);
            }
        }
    }

    private static async Task SendAsync(ConnectionContext connection, byte[] bytes)
    {
        await connection.Transport.Output.WriteAsync(bytes);
    }

    private static async Task<(int Code, byte[] Body)> ReadStartupAsync(PipeReader input)
    {
        var header = await ReadExactlyAsync(input, 8);
        var length = BinaryPrimitives.ReadInt32BigEndian(header);
        if (length is < 8 or > 10000)
            throw new InvalidDataException("invalid length of startup packet");
        var body = await ReadExactlyAsync(input, length - 8);
        return (BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4)), body);
    }

    private static async Task<(char Type, byte[] Body)> ReadMessageAsync(PipeReader input)
    {
        var header = await ReadExactlyAsync(input, 5, allowEnd: true);
        if (header.Length == 0)
            return ('\0', []);
        var length = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(1));
        return ((char)header[0], await ReadExactlyAsync(input, length - 4));
    }

    private static async Task<byte[]> ReadExactlyAsync(PipeReader input, int count, bool allowEnd = false)
    {
        if (count == 0)
            return [];
        while (true)
        {
            var result = await input.ReadAsync();
            if (result.Buffer.Length >= count)
            {
                var bytes = result.Buffer.Slice(0, count).ToArray();
                input.AdvanceTo(result.Buffer.GetPosition(count));
                return bytes;
            }
            if (result.IsCompleted)
            {
                input.AdvanceTo(result.Buffer.End);
                if (allowEnd && result.Buffer.IsEmpty)
                    return [];
                throw new IOException("connection closed mid-message");
            }
            input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    private static Dictionary<string, string> ParseParameters(byte[] body)
    {
        var result = new Dictionary<string, string>();
        var parts = Encoding.UTF8.GetString(body).Split('\0');
        for (var i = 0; i + 1 < parts.Length && parts[i].Length > 0; i += 2)
            result[parts[i]] = parts[i + 1];
        return result;
    }
}
