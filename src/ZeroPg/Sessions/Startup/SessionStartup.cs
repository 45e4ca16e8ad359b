using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Security.Authentication;
using Microsoft.AspNetCore.Connections;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;
using ZeroPg.Protocol.Frontend;
using ZeroPg.Security;

namespace ZeroPg.Sessions;

/// <summary>
/// The startup phase of a connection, before it is a session: TLS (after SSLRequest, or direct) when the
/// server has a certificate, 'N' to SSLRequest otherwise and to GSSENCRequest always, a CancelRequest goes to the session it names, and the StartupMessage decides
/// what kind of session follows (today always a <see cref="ClientSession"/>; a replication connection or
/// another database would be chosen here). Then the greeting: authentication (<see cref="ClientAuthentication"/>), the settings a real
/// server reports, BackendKeyData and ReadyForQuery.
/// </summary>
internal static class SessionStartup
{
    /// <summary>
    /// The StartupMessage (after TLS when the client asked for it), or null when the connection ends without
    /// becoming a session (SSL probe then close, CancelRequest, bad packet, failed TLS handshake).
    /// </summary>
    /// <param name="cancel">Where a CancelRequest goes (its whole packet); null looks the session up in the registry.</param>
    public static async Task<ConnectionStart?> ReadAsync(ConnectionContext connection, SessionServices services, Func<byte[], Task>? cancel = null)
    {
        // Postgres's authentication_timeout: a client that never finishes its startup is dropped without a word.
        using var deadline = new CancellationTokenSource(services.Options.AuthenticationTimeout);
        SslStream? ssl = null;
        try
        {
            if (services.Tls.IsEnabled && await StartsWithTlsHandshakeAsync(connection.Transport.Input, deadline.Token))
                ssl = await TlsConnection.UpgradeAsync(connection, services.Tls, direct: true, deadline.Token); // Postgres 17's sslnegotiation=direct
            while (true)
            {
                var packet = await ReadPacketAsync(connection.Transport.Input, deadline.Token);
                if (packet is null)
                    return await EndAsync(ssl);
                var startup = StartupPacket.Parse(packet);
                switch (startup.Kind)
                {
                    case StartupPacketKind.SslRequest when services.Tls.IsEnabled:
                        if (ssl is not null)
                            throw new PgErrorException(PgError.Fatal(SqlState.ProtocolViolation, "SSLRequest received on an encrypted connection", "Send SSLRequest once, before TLS."));
                        EnsureNothingAfterSslRequest(connection.Transport.Input);
                        await WriteByteAsync(connection.Transport.Output, (byte)'S');
                        ssl = await TlsConnection.UpgradeAsync(connection, services.Tls, direct: false, deadline.Token);
                        continue;
                    case StartupPacketKind.SslRequest or StartupPacketKind.GssEncRequest:
                        // No TLS configured (or no GSS encryption at all): 'N' tells the client to go on in plain text or give up.
                        await WriteByteAsync(connection.Transport.Output, (byte)'N');
                        continue;
                    case StartupPacketKind.CancelRequest:
                        // The canceller's connection is closed BEFORE the cancel acts. A client waits for that close, then goes on
                        // with the cancelled connection's state (Npgsql sets a read deadline on it); were the cancelled statement's
                        // 57014 first, the client could close that connection meanwhile, and Npgsql 10 then dies of a
                        // NullReferenceException on the canceller's thread (an unhandled crash of the whole client process).
                        connection.Abort();
                        if (cancel is not null)
                            await cancel(packet);
                        else
                            services.Registry.Find(startup.CancelProcessId, startup.CancelSecretKey)?.RequestCancel();
                        return await EndAsync(ssl);
                    default:
                        return new ConnectionStart(startup, packet, ssl);
                }
            }
        }
        catch (PgErrorException error)
        {
            await ConnectionErrors.TryWriteFatalAsync(connection.Transport.Output, error.Error);
            return await EndAsync(ssl);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            services.Metrics.RecordStartupTimeout();
            return await EndAsync(ssl);
        }
        catch (Exception error) when (ConnectionErrors.IsDisconnect(error) || error is AuthenticationException or TlsConnection.AuthenticationFailedException or IOException)
        {
            // A client that hung up, or a TLS handshake that failed (wrong protocol version, no ALPN): nothing to answer.
            return await EndAsync(ssl);
        }
    }

    private static async Task<ConnectionStart?> EndAsync(SslStream? ssl)
    {
        if (ssl is not null)
            await ssl.DisposeAsync();
        return null;
    }

    /// <summary>A TLS record starts with 0x16 (handshake); a startup packet's length word never does.</summary>
    private static async Task<bool> StartsWithTlsHandshakeAsync(PipeReader input, CancellationToken deadline)
    {
        var result = await input.ReadAsync(deadline);
        var direct = !result.Buffer.IsEmpty && result.Buffer.FirstSpan[0] == 0x16;
        input.AdvanceTo(result.Buffer.Start); // nothing consumed: the packet (or handshake) is read again
        return direct;
    }

    /// <summary>
    /// Bytes sent after SSLRequest before the server's answer would be read as if they came over TLS
    /// (CVE-2021-23214): Postgres refuses them, and so does ZeroPg.
    /// </summary>
    private static void EnsureNothingAfterSslRequest(PipeReader input)
    {
        if (!input.TryRead(out var result))
            return;
        var pending = !result.Buffer.IsEmpty;
        input.AdvanceTo(result.Buffer.Start);
        if (pending)
            throw new PgErrorException(PgError.Fatal(SqlState.ProtocolViolation, "received unencrypted data after SSL request",
                "This could be either a client-software bug or evidence of an attempted man-in-the-middle attack."));
    }

    private static async Task WriteByteAsync(PipeWriter output, byte value)
    {
        output.GetSpan(1)[0] = value;
        output.Advance(1);
        await output.FlushAsync();
    }

    /// <summary>Before authentication, as Postgres does: the client's encoding must be servable, and a newer protocol minor or unknown _pq_ options get NegotiateProtocolVersion.</summary>
    public static void Negotiate(PipeWriter output, StartupPacket startup, SessionSettings settings)
    {
        settings.EnsureServableClientEncoding();
        var unrecognized = startup.Parameters.Keys.Where(k => k.StartsWith("_pq_.", StringComparison.Ordinal)).ToList();
        if (startup.ProtocolMinor > 0 || unrecognized.Count > 0)
            NegotiateProtocolVersion.Write(output, 0, unrecognized);
    }

    /// <summary>Tells an authenticated client it is in, once the engine is there (a restarting engine delays new sessions instead of failing them).</summary>
    public static async Task GreetAsync(PipeWriter output, SessionSettings settings, SessionIdentity identity, SessionServices services)
    {
        await services.Engine.GetAsync();
        AuthenticationOk.Write(output);
        foreach (var (name, value) in settings.StartupReport(services.Engine.StartupInfo?.Parameters))
            ParameterStatus.Write(output, name, value);
        BackendKeyData.Write(output, identity.ProcessId, identity.SecretKey);
        ReadyForQuery.Write(output, TransactionStatus.Idle);
        await output.FlushAsync();
    }

    private static async Task<byte[]?> ReadPacketAsync(PipeReader input, CancellationToken deadline)
    {
        while (true)
        {
            // No connection-closed token: a client that sends a CancelRequest and closes at once must
            // still have its packet read (the pipe completes with the data; the token would throw first).
            var result = await input.ReadAsync(deadline);
            var buffer = result.Buffer;
            if (FrontendFramer.TryReadStartupPacket(ref buffer, out var packet))
            {
                var bytes = packet.ToArray();
                input.AdvanceTo(buffer.Start);
                return bytes;
            }
            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted || result.IsCanceled)
                return null;
        }
    }
}
