namespace ZeroPg.Replication.PgOutput;

/// <summary>How one column of a tuple is sent: 'n' null, 'u' unchanged TOAST, 't' text, 'b' binary.</summary>
internal enum TupleValueKind : byte
{
    Null = (byte)'n',
    UnchangedToast = (byte)'u',
    Text = (byte)'t',
    Binary = (byte)'b',
}

/// <summary>One column value: text from the type's output function or bytes from its send function.</summary>
internal readonly record struct TupleValue(TupleValueKind Kind, ReadOnlyMemory<byte> Bytes)
{
    public static readonly TupleValue Null = new(TupleValueKind.Null, default);
    public static readonly TupleValue UnchangedToast = new(TupleValueKind.UnchangedToast, default);
    public static TupleValue Text(string text) => new(TupleValueKind.Text, System.Text.Encoding.UTF8.GetBytes(text));
    public static TupleValue Binary(byte[] bytes) => new(TupleValueKind.Binary, bytes);
}

/// <summary>TupleData: int16 column count, then per column its kind and (text/binary) int32 length + bytes.</summary>
internal static class TupleData
{
    public static void Write(PgOutputWriter w, IReadOnlyList<TupleValue> values)
    {
        w.Int16(checked((short)values.Count));
        foreach (var v in values)
        {
            w.Byte((byte)v.Kind);
            if (v.Kind is TupleValueKind.Text or TupleValueKind.Binary)
            {
                w.Int32(v.Bytes.Length);
                w.Bytes(v.Bytes.Span);
            }
        }
    }
}
