using System.Buffers;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;
using ZeroPg.Protocol.Frontend;

namespace ZeroPg.Sessions;

internal sealed partial class ClientSession
{
    /// <summary>Settings a real server reports at startup, in the order Postgres sends them.</summary>
    private static readonly string[] ReportedAtStartup =
    [
        "application_name", "client_encoding", "DateStyle", "default_transaction_read_only", "in_hot_standby",
        "integer_datetimes", "IntervalStyle", "is_superuser", "scram_iterations", "search_path", "server_encoding",
        "server_version", "session_authorization", "standard_conforming_strings", "TimeZone",
    ];

    /// <summary>Runs the startup phase. False when the connection ends without becoming a session (SSL probe then close, cancel request).</summary>
    private async Task<bool> HandshakeAsync()
    {
        StartupPacket startup;
        while (true)
        {
            var packet = await ReadStartupPacketAsync();
            if (packet is null)
                return false;
            startup = StartupPacket.Parse(packet);
            if (startup.Kind is StartupPacketKind.SslRequest or StartupPacketKind.GssEncRequest)
            {
                // No TLS or GSS encryption here: 'N' tells the client to go on in plain text.
                _output.GetSpan(1)[0] = (byte)'N';
                _output.Advance(1);
                await _output.FlushAsync();
                continue;
            }
            if (startup.Kind == StartupPacketKind.CancelRequest)
            {
                _services.Registry.Find(startup.CancelProcessId, startup.CancelSecretKey)?.RequestCancel();
                return false;
            }
            break;
        }

        if (!_services.Registry.TryAdmit(this, _services.Options.MaxConnections))
            throw new PgErrorException(PgError.Fatal(SqlState.TooManyConnections, "sorry, too many clients already",
                $"This ZeroPg server allows {_services.Options.MaxConnections} connections (--max-connections)."));
        StartupParameters = startup.Parameters;
        InitializeSettings(startup.Parameters);

        var unrecognized = startup.Parameters.Keys.Where(k => k.StartsWith("_pq_.", StringComparison.Ordinal)).ToList();
        if (startup.ProtocolMinor > 0 || unrecognized.Count > 0)
            NegotiateProtocolVersion.Write(_output, 0, unrecognized);

        await _services.Engine.GetAsync(); // a restarting engine delays new sessions instead of failing them
        AuthenticationOk.Write(_output);
        foreach (var (name, value) in InitialParameterStatus())
        {
            ParameterStatus.Write(_output, name, value);
            _reported[name] = value;
        }
        BackendKeyData.Write(_output, ProcessId, SecretKey);
        ReadyForQuery.Write(_output, TransactionStatus.Idle);
        await _output.FlushAsync();
        return true;
    }

    private IEnumerable<(string Name, string Value)> InitialParameterStatus()
    {
        var engine = _services.Engine.StartupInfo?.Parameters ?? new Dictionary<string, string>();
        foreach (var name in ReportedAtStartup)
        {
            var value = _settings.TryGetValue(name, out var own) ? own
                : name == "application_name" ? "" : engine.GetValueOrDefault(name);
            if (value is not null)
                yield return (name, value);
        }
    }

    private async Task<byte[]?> ReadStartupPacketAsync()
    {
        while (true)
        {
            // No connection-closed token: a client that sends a CancelRequest and closes at once must
            // still have its packet read (the pipe completes with the data; the token would throw first).
            var result = await _input.ReadAsync();
            var buffer = result.Buffer;
            if (FrontendFramer.TryReadStartupPacket(ref buffer, out var packet))
            {
                var bytes = packet.ToArray();
                _input.AdvanceTo(buffer.Start);
                return bytes;
            }
            _input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted || result.IsCanceled)
                return null;
        }
    }
}
