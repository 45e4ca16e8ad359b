namespace ZeroPg.Protocol.Frontend;

internal enum StartupPacketKind
{
    Startup,
    SslRequest,
    GssEncRequest,
    CancelRequest,
}

/// <summary>The first packet of a connection: a StartupMessage or one of the special requests.</summary>
internal sealed class StartupPacket
{
    public const int SslRequestCode = 80877103;
    public const int GssEncRequestCode = 80877104;
    public const int CancelRequestCode = 80877102;
    public const int ProtocolMajor3 = 3;

    public StartupPacketKind Kind { get; private init; }
    public int ProtocolMinor { get; private init; }
    public IReadOnlyDictionary<string, string> Parameters { get; private init; } = new Dictionary<string, string>();
    public int CancelProcessId { get; private init; }
    public int CancelSecretKey { get; private init; }

    /// <summary>Parses a whole packet including its length word.</summary>
    public static StartupPacket Parse(ReadOnlySpan<byte> packet)
    {
        var reader = new WireReader(packet);
        reader.ReadInt32();
        var code = reader.ReadInt32();
        switch (code)
        {
            case SslRequestCode:
                return new StartupPacket { Kind = StartupPacketKind.SslRequest };
            case GssEncRequestCode:
                return new StartupPacket { Kind = StartupPacketKind.GssEncRequest };
            case CancelRequestCode:
                // Protocol 3.2 allows a longer key; ZeroPg hands out 4-byte keys, so the first 4 bytes are the key.
                return new StartupPacket { Kind = StartupPacketKind.CancelRequest, CancelProcessId = reader.ReadInt32(), CancelSecretKey = reader.ReadInt32() };
        }
        var major = code >> 16;
        if (major != ProtocolMajor3)
            throw new PgErrorException(PgError.Fatal(SqlState.FeatureNotSupported,
                $"unsupported frontend protocol {major}.{code & 0xFFFF}: server supports 3.0 to 3.2",
                "Use a client that speaks protocol version 3."));
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Remaining > 0)
        {
            var name = reader.ReadCString();
            if (name.Length == 0)
                break;
            parameters[name] = reader.ReadCString();
        }
        return new StartupPacket { Kind = StartupPacketKind.Startup, ProtocolMinor = code & 0xFFFF, Parameters = parameters };
    }
}
