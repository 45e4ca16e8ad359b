using System.Buffers.Binary;
using System.Text;
using ZeroPg.Sessions.Copy;
using ZeroPg.Sql;

namespace ZeroPg.Tests.Sessions.Copy;

/// <summary>Where a COPY's data is cut into pieces: only between rows as Postgres reads them, fed in any chunking.</summary>
public sealed class CopyRowCutterTests
{
    private static List<string> Cut(CopyFormat format, string data, int pieceBytes, int chunk, out CopyRowCutter cutter)
    {
        cutter = new CopyRowCutter(format, pieceBytes);
        var bytes = Encoding.UTF8.GetBytes(data);
        for (var i = 0; i < bytes.Length; i += chunk)
            cutter.Feed(bytes.AsSpan(i, Math.Min(chunk, bytes.Length - i)));
        return cutter.Pieces(bytes.Length).Select(p => Encoding.UTF8.GetString(bytes, (int)p.Start, (int)p.Length)).ToList();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(1000)]
    public void Text_rows_end_at_newlines_not_escaped_by_a_backslash(int chunk)
    {
        var rows = new[] { "1\ta\\\nb\n", "2\tx\\\\\n", "3\t\\\\\\\ny\n", "4\tlast\n" }; // an escaped newline stays in its row; \\ then newline ends it
        var pieces = Cut(new CopyFormat(CopyDataKind.Text, 0, 0, false), string.Concat(rows), 1, chunk, out var cutter);
        Assert.Equal(rows.Append(""), pieces);
        Assert.Equal([0L, 1, 2, 3, 4], cutter.Pieces(rows.Sum(r => r.Length)).Select(p => p.LinesBefore));
    }

    [Fact]
    public void Text_data_ends_at_backslash_dot()
    {
        var pieces = Cut(new CopyFormat(CopyDataKind.Text, 0, 0, false), "1\n2\n\\.\n3\n4\n", 1, 1, out var cutter);
        Assert.True(cutter.Ended);
        Assert.Equal(["1\n", "2\n", "\\.\n3\n4\n"], pieces); // the rest stays with \. : the engine ignores it
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    public void Csv_rows_end_at_newlines_outside_quotes_and_every_newline_is_a_line(int chunk)
    {
        var rows = new[] { "id,v\n", "1,\"two\nlines\"\n", "2,\"say \"\"hi\"\"\nand\nmore\"\n", "3,plain\n" };
        var pieces = Cut(new CopyFormat(CopyDataKind.Csv, (byte)'"', (byte)'"', true), string.Concat(rows), 1, chunk, out var cutter);
        Assert.Equal(rows.Append(""), pieces);
        Assert.Equal("id,v\n", Encoding.UTF8.GetString(cutter.Prefix!));
        Assert.Equal(1, cutter.PrefixLines);
        Assert.Equal([0L, 1, 3, 6, 7], cutter.Pieces(rows.Sum(r => Encoding.UTF8.GetByteCount(r))).Select(p => p.LinesBefore));
    }

    [Fact]
    public void Csv_with_another_escape_keeps_an_escaped_quote_inside_the_field()
    {
        var rows = new[] { "1,\"a\\\"\nb\"\n", "2,\"\\\\\"\n" };
        var pieces = Cut(new CopyFormat(CopyDataKind.Csv, (byte)'"', (byte)'\\', false), string.Concat(rows), 1, 1, out _);
        Assert.Equal(rows.Append(""), pieces);
    }

    [Fact]
    public void Binary_tuples_are_cut_by_their_lengths_and_the_header_is_the_prefix()
    {
        var header = new byte[] { (byte)'P', (byte)'G', (byte)'C', (byte)'O', (byte)'P', (byte)'Y', (byte)'\n', 0xFF, (byte)'\r', (byte)'\n', 0, 0, 0, 0, 0, 0, 0, 0, 0 };
        var data = new List<byte>(header);
        var tupleEnds = new List<int>();
        for (var i = 0; i < 5; i++)
        {
            data.AddRange(Int16(2));
            data.AddRange(Int32(4));
            data.AddRange(Int32(i));
            if (i == 2)
                data.AddRange(Int32(-1)); // NULL
            else
            {
                var text = Encoding.UTF8.GetBytes(new string('\n', i)); // newlines mean nothing in binary
                data.AddRange(Int32(text.Length));
                data.AddRange(text);
            }
            tupleEnds.Add(data.Count);
        }
        data.AddRange(Int16(-1));
        var bytes = data.ToArray();
        var cutter = new CopyRowCutter(new CopyFormat(CopyDataKind.Binary, 0, 0, false), 1);
        foreach (var b in bytes)
            cutter.Feed([b]);
        Assert.True(cutter.Ended);
        Assert.Equal(header, cutter.Prefix);
        var pieces = cutter.Pieces(bytes.Length);
        Assert.Equal(tupleEnds.Select(e => (long)e), pieces.Take(5).Select(p => p.Start + p.Length));
        Assert.Equal([0L, 1, 2, 3, 4, 5], pieces.Select(p => p.LinesBefore));
        Assert.True(pieces[^1].Last);

        static byte[] Int16(short v) { var b = new byte[2]; BinaryPrimitives.WriteInt16BigEndian(b, v); return b; }
        static byte[] Int32(int v) { var b = new byte[4]; BinaryPrimitives.WriteInt32BigEndian(b, v); return b; }
    }

    [Theory]
    [InlineData("copy t from stdin", "Text", '\0', '\0', false)]
    [InlineData("copy t (a, b) from stdin with (format csv, header true, quote '''', escape '\\')", "Csv", '\'', '\\', true)]
    [InlineData("COPY t FROM STDIN WITH CSV HEADER QUOTE AS '|'", "Csv", '|', '|', true)]
    [InlineData("copy t from stdin (format binary)", "Binary", '\0', '\0', false)]
    [InlineData("copy binary t from stdin", "Binary", '\0', '\0', false)]
    [InlineData("copy t from stdin (format text, header match) where a > 1;", "Text", '\0', '\0', true)]
    [InlineData("copy t from stdin (format csv, header false, delimiter ';')", "Csv", '"', '"', false)]
    public void The_format_is_read_from_the_statement(string sql, string kindName, char quote, char escape, bool header)
    {
        var kind = Enum.Parse<CopyDataKind>(kindName);
        var format = CopyFormat.Read(SqlAnalysis.Of(sql), binaryResponse: kind == CopyDataKind.Binary);
        Assert.Equal(new CopyFormat(kind, (byte)quote, (byte)escape, header), format);
    }

    [Theory]
    [InlineData("copy t from stdin (format csv, quote E'\\'')")] // not a plain literal
    [InlineData("copy t from stdin; select 1")] // a piece would run the SELECT again
    [InlineData("copy t from stdin (format csv, quote 'ab')")]
    public void A_statement_ZeroPg_cannot_read_with_certainty_is_not_cut(string sql)
        => Assert.Null(CopyFormat.Read(SqlAnalysis.Of(sql), binaryResponse: false));
}
