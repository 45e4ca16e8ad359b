namespace ZeroPg.Protocol.Frontend;

/// <summary>SASLInitialResponse ('p' while SASL starts): the chosen mechanism and the client's first message.</summary>
internal readonly record struct SaslInitialResponse(string Mechanism, byte[] Data)
{
    /// <summary>Parses the body (after type and length).</summary>
    public static SaslInitialResponse Parse(ReadOnlySpan<byte> body)
    {
        var reader = new WireReader(body);
        var mechanism = reader.ReadCString();
        var length = reader.ReadInt32();
        var data = length < 0 ? [] : reader.ReadBytes(length).ToArray();
        if (reader.Remaining != 0)
            throw ProtocolViolation.Create("invalid SASL initial response: bytes after the data");
        return new SaslInitialResponse(mechanism, data);
    }
}
