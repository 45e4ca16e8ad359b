namespace ZeroPg.Protocol.Backend;

/// <summary>A DataRow of text columns (NULL as null), read once from the whole message: the rows of ZeroPg's own queries.</summary>
internal sealed record TextRow(string?[] Columns)
{
    public static TextRow Parse(ReadOnlySpan<byte> message) => new(DataRow.ReadText(message[MessageFramer.HeaderLength..]));

    public string? this[int column] => Columns[column];
}
