using System.Buffers.Binary;
using System.Text;

namespace ZeroPg.Tests.Replication;

/// <summary>
/// pgoutput messages as comparable text, read the way a consumer reads them (protocol-logicalrep-message-formats), with what
/// legitimately differs between two servers left out: LSNs, xids, commit times, and OIDs (a relation is named by its Relation
/// message, a type that is not built in reads "usertype"). Everything else (message order, flags, replica identity, column
/// flags, type OIDs of built-in types, typmods, tuple kinds and value bytes) stays. One reader per stream: it remembers the
/// relation names it was told.
/// </summary>
public sealed class PgOutputText
{
    private readonly Dictionary<uint, string> _relations = new();

    /// <summary>The xid of the streamed block being read (protocol 2+), whose messages carry an xid after their type byte.</summary>
    private uint? _streamXid;
    private uint? _lastStreamXid;

    public List<string> Describe(IEnumerable<byte[]> messages) => [.. messages.Select(Describe)];

    public string Describe(byte[] m)
    {
        var r = new Reader(m);
        var code = (char)r.Byte();
        switch (code)
        {
            case 'S':
                _streamXid = _lastStreamXid = r.UInt32();
                return $"S first={r.Byte()}";
            case 'E':
                _streamXid = null;
                return "E";
            case 'c':
                return $"c {StreamXid(r.UInt32(), _lastStreamXid)} flags={r.Byte()}";
        }
        var xid = _streamXid is { } streamed ? " " + StreamXid(r.UInt32(), streamed) : "";
        return Describe(code, r, m) + xid;
    }

    /// <summary>Whether a streamed message's xid is the one its Stream Start named (xids differ between servers).</summary>
    private static string StreamXid(uint xid, uint? streamed) => xid == streamed ? "@stream" : $"@other-xid({xid}, stream {streamed})";

    private string Describe(char code, Reader r, byte[] m)
    {
        switch (code)
        {
            case 'B':
                return "B";
            case 'C':
                return $"C flags={r.Byte()}";
            case 'R':
            {
                var oid = r.UInt32();
                var ns = r.CString();
                var name = r.CString();
                _relations[oid] = name;
                var identity = (char)r.Byte();
                var count = r.Int16();
                var columns = new List<string>();
                for (var i = 0; i < count; i++)
                    columns.Add($"{r.Byte()}:{r.CString()}:{Type(r.UInt32())}:{r.Int32()}");
                return $"R {ns}.{name} {identity} [{string.Join(", ", columns)}]";
            }
            case 'Y':
                r.UInt32();
                return $"Y {r.CString()}.{r.CString()}";
            case 'I':
                return $"I {Relation(r.UInt32())} {(char)r.Byte()}{Tuple(r)}";
            case 'U':
            {
                var text = new StringBuilder($"U {Relation(r.UInt32())}");
                while (!r.AtEnd)
                    text.Append(' ').Append((char)r.Byte()).Append(Tuple(r));
                return text.ToString();
            }
            case 'D':
                return $"D {Relation(r.UInt32())} {(char)r.Byte()}{Tuple(r)}";
            case 'T':
            {
                var count = r.Int32();
                var options = r.Byte();
                var names = Enumerable.Range(0, count).Select(_ => Relation(r.UInt32())).ToList();
                return $"T options={options} [{string.Join(", ", names)}]";
            }
            case 'M':
            {
                var flags = r.Byte();
                r.UInt64(); // its LSN
                var prefix = r.CString();
                var content = r.Bytes(r.Int32());
                return $"M flags={flags} {prefix} {Convert.ToHexString(content)}";
            }
            case 'b': // Begin Prepare: prepare LSN, end LSN, time, xid, gid
                r.UInt64(); r.UInt64(); r.UInt64(); r.UInt32();
                return $"b {r.CString()}";
            case 'P': // Prepare: flags, prepare LSN, end LSN, time, xid, gid
            {
                var flags = r.Byte();
                r.UInt64(); r.UInt64(); r.UInt64(); r.UInt32();
                return $"P flags={flags} {r.CString()}";
            }
            case 'K': // Commit Prepared: flags, commit LSN, end LSN, time, xid, gid
            {
                var flags = r.Byte();
                r.UInt64(); r.UInt64(); r.UInt64(); r.UInt32();
                return $"K flags={flags} {r.CString()}";
            }
            case 'r': // Rollback Prepared: flags, prepare end LSN, rollback end LSN, prepare time, rollback time, xid, gid
            {
                var flags = r.Byte();
                r.UInt64(); r.UInt64(); r.UInt64(); r.UInt64(); r.UInt32();
                return $"r flags={flags} {r.CString()}";
            }
            default:
                return $"{code}? {Convert.ToHexString(m)}";
        }
    }

    private string Relation(uint oid) => _relations.TryGetValue(oid, out var name) ? name : $"(no Relation message for {oid})";

    private static string Type(uint oid) => oid >= 16384 ? "usertype" : oid.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string Tuple(Reader r)
    {
        var count = r.Int16();
        var values = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var kind = (char)r.Byte();
            values.Add(kind switch
            {
                't' => "t:" + Encoding.UTF8.GetString(r.Bytes(r.Int32())),
                'b' => "b:" + Convert.ToHexString(r.Bytes(r.Int32())),
                _ => kind.ToString(),
            });
        }
        return "[" + string.Join(", ", values) + "]";
    }

    private sealed class Reader(byte[] bytes)
    {
        private int _at;

        public bool AtEnd => _at >= bytes.Length;
        public byte Byte() => bytes[_at++];
        public short Int16() { var v = BinaryPrimitives.ReadInt16BigEndian(bytes.AsSpan(_at)); _at += 2; return v; }
        public int Int32() { var v = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(_at)); _at += 4; return v; }
        public uint UInt32() { var v = BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(_at)); _at += 4; return v; }
        public ulong UInt64() { var v = BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(_at)); _at += 8; return v; }
        public byte[] Bytes(int count) { var v = bytes.AsSpan(_at, count).ToArray(); _at += count; return v; }

        public string CString()
        {
            var end = Array.IndexOf(bytes, (byte)0, _at);
            var s = Encoding.UTF8.GetString(bytes, _at, end - _at);
            _at = end + 1;
            return s;
        }
    }
}
