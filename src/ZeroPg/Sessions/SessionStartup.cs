using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;
using ZeroPg.Protocol.Frontend;

namespace ZeroPg.Sessions;

/// <summary>
/// The startup phase of a connection, before it is a session: SSLRequest and GSSENCRequest are answered
/// 'N' (no encryption here), a CancelRequest goes to the session it names, and the StartupMessage decides
/// what kind of session follows (today always a <see cref="ClientSession"/>; a replication connection or
/// another database would be chosen here). Then the greeting: authentication (trust), the settings a real
/// server reports, BackendKeyData and ReadyForQuery.
/// </summary>
internal static class SessionStartup
{
    /// <summary>The StartupMessage, or null when the connection ends without becoming a session (SSL probe then close, CancelRequest, bad packet).</summary>
    public static async Task<StartupPacket?> ReadAsync(ConnectionContext connection, SessionServices services)
    {
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        // Postgres's authentication_timeout: a client that never finishes its startup is dropped without a word.
        using var deadline = new CancellationTokenSource(services.Options.AuthenticationTimeout);
        try
        {
            while (true)
            {
                var packet = await ReadPacketAsync(input, deadline.Token);
                if (packet is null)
                    return null;
                var startup = StartupPacket.Parse(packet);
                switch (startup.Kind)
                {
                    case StartupPacketKind.SslRequest or StartupPacketKind.GssEncRequest:
                        // No TLS or GSS encryption here: 'N' tells the client to go on in plain text.
                        output.GetSpan(1)[0] = (byte)'N';
                        output.Advance(1);
                        await output.FlushAsync();
                        continue;
                    case StartupPacketKind.CancelRequest:
                        services.Registry.Find(startup.CancelProcessId, startup.CancelSecretKey)?.RequestCancel();
                        return null;
                    default:
                        return startup;
                }
            }
        }
        catch (PgErrorException error)
        {
            await ConnectionErrors.TryWriteFatalAsync(output, error.Error);
            return null;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            services.Metrics.RecordStartupTimeout();
            return null;
        }
        catch (Exception error) when (ConnectionErrors.IsDisconnect(error))
        {
            return null;
        }
    }

    /// <summary>Tells an admitted client it is in, once the engine is there (a restarting engine delays new sessions instead of failing them).</summary>
    public static async Task GreetAsync(PipeWriter output, StartupPacket startup, SessionSettings settings, SessionIdentity identity, SessionServices services)
    {
        settings.EnsureServableClientEncoding();
        var unrecognized = startup.Parameters.Keys.Where(k => k.StartsWith("_pq_.", StringComparison.Ordinal)).ToList();
        if (startup.ProtocolMinor > 0 || unrecognized.Count > 0)
            NegotiateProtocolVersion.Write(output, 0, unrecognized);
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
