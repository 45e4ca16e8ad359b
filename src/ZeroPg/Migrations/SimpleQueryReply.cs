using System.Buffers.Binary;
using System.Text;

namespace ZeroPg.Migrations;

/// <summary>Reads the reply of one simple Query: the last result set's rows as text, or the first error.</summary>
internal static class SimpleQueryReply
{
    public static IReadOnlyList<string?[]> Parse(ReadOnlySpan<byte> reply)
    {
        var rows = new List<string?[]>();
        MigrationSqlException? error = null;
        var offset = 0;
        while (offset + 5 <= reply.Length)
        {
            var code = reply[offset];
            var length = BinaryPrimitives.ReadInt32BigEndian(reply[(offset + 1)..]);
            var body = reply.Slice(offset + 5, length - 4);
            offset += 1 + length;
            switch (code)
            {
                case (byte)'T':
                    rows = []; // a new result set: only the last one is returned
                    break;
                case (byte)'D':
                    rows.Add(DataRow(body));
                    break;
                case (byte)'E':
                    error ??= Error(body);
                    break;
            }
        }
        if (error is not null)
            throw error;
        return rows;
    }

    private static string?[] DataRow(ReadOnlySpan<byte> body)
    {
        var count = BinaryPrimitives.ReadInt16BigEndian(body);
        var values = new string?[count];
        var position = 2;
        for (var i = 0; i < count; i++)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(body[position..]);
            position += 4;
            if (length < 0)
                continue;
            values[i] = Encoding.UTF8.GetString(body.Slice(position, length));
            position += length;
        }
        return values;
    }

    internal static MigrationSqlException Error(ReadOnlySpan<byte> body)
    {
        var fields = new Dictionary<char, string>();
        var position = 0;
        while (position < body.Length && body[position] != 0)
        {
            var type = (char)body[position++];
            var end = body[position..].IndexOf((byte)0);
            fields[type] = Encoding.UTF8.GetString(body.Slice(position, end));
            position += end + 1;
        }
        return new MigrationSqlException(fields.GetValueOrDefault('C', "XX000"), fields.GetValueOrDefault('M', "unknown error"),
            fields.GetValueOrDefault('D'), fields.GetValueOrDefault('H'),
            int.TryParse(fields.GetValueOrDefault('P'), out var p) ? p : null, fields.GetValueOrDefault('W'));
    }
}
