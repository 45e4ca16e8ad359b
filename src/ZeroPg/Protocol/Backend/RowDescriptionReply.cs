namespace ZeroPg.Protocol.Backend;

/// <summary>A RowDescription ('T'), read once from the whole message: each column's name (UTF-8 as sent) and attributes.</summary>
internal sealed record RowDescriptionReply(RowDescriptionReply.Column[] Columns)
{
    public readonly record struct Column(byte[] Name, int TableOid, short Number, int TypeOid, short Size, int Modifier, short Format);

    public static RowDescriptionReply Parse(ReadOnlySpan<byte> message)
    {
        var reader = new WireReader(message[MessageFramer.HeaderLength..]);
        var columns = new Column[Math.Max((int)reader.ReadInt16(), 0)];
        for (var i = 0; i < columns.Length; i++)
        {
            columns[i] = new Column(reader.ReadCStringBytes().ToArray(), reader.ReadInt32(), reader.ReadInt16(), reader.ReadInt32(),
                reader.ReadInt16(), reader.ReadInt32(), reader.ReadInt16());
        }
        return new RowDescriptionReply(columns);
    }
}
