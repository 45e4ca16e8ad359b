namespace ZeroPg.Protocol.Backend;

/// <summary>The columns of a DataRow ('D') in order, read from the whole message without copying them.</summary>
internal ref struct DataRowReader
{
    private WireReader _reader;

    public DataRowReader(ReadOnlySpan<byte> message)
    {
        _reader = new WireReader(message[MessageFramer.HeaderLength..]);
        Count = _reader.ReadInt16();
    }

    public short Count { get; }

    /// <summary>The next column's length as sent (-1 for NULL, then <paramref name="value"/> is empty) and its bytes.</summary>
    public int ReadColumn(out ReadOnlySpan<byte> value)
    {
        var length = _reader.ReadInt32();
        value = length < 0 ? default : _reader.ReadBytes(length);
        return length;
    }
}
