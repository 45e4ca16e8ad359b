using System.Buffers.Binary;
using System.Text;

namespace ZeroPg.Protocol.Backend;

/// <summary>DataRow ('D'): a column count, then each column's length (-1 for NULL) and bytes.</summary>
internal static class DataRow
{
    /// <summary>The columns of a text-format row; NULL as null.</summary>
    public static string?[] ReadText(ReadOnlySpan<byte> body)
    {
        var reader = new WireReader(body);
        var columns = new string?[reader.ReadInt16()];
        for (var i = 0; i < columns.Length; i++)
        {
            var length = reader.ReadInt32();
            columns[i] = length < 0 ? null : Encoding.UTF8.GetString(reader.ReadBytes(length));
        }
        return columns;
    }
}
