using System.Buffers.Binary;
using System.Text;

namespace ZeroPg.Tests.Infrastructure;

public sealed partial class RawProtocolClient
{
    /// <summary>One backend message: its type byte and body (without the length).</summary>
    public sealed record Message(char Code, byte[] Body)
    {
        /// <summary>A message as the wire carries it whole: type, length, body.</summary>
        internal static Message FromWhole(byte[] whole) => new((char)whole[0], whole[ZeroPg.Protocol.MessageFramer.HeaderLength..]);

        /// <summary>The whole body as UTF-8, NULs included, for asserting exact bytes such as a command tag's.</summary>
        public string BodyText => Encoding.UTF8.GetString(Body);

        /// <summary>The SQLSTATE ('C' field) of an ErrorResponse/NoticeResponse.</summary>
        public string? SqlState => Field('C');

        /// <summary>The primary message ('M' field) of an ErrorResponse/NoticeResponse.</summary>
        public string? MessageText => Field('M');

        /// <summary>A field of an ErrorResponse/NoticeResponse; null for other messages, whose bodies have no fields.</summary>
        public string? Field(char field)
        {
            if (Code is not ('E' or 'N'))
                return null;
            var offset = 0;
            while (offset < Body.Length && Body[offset] != 0)
            {
                var end = Array.IndexOf(Body, (byte)0, offset + 1);
                if (Body[offset] == field)
                    return Encoding.UTF8.GetString(Body, offset + 1, end - offset - 1);
                offset = end + 1;
            }
            return null;
        }

        /// <summary>The text columns of a DataRow (null for SQL NULL).</summary>
        public string?[] Columns()
        {
            if (Code != 'D')
                throw new InvalidOperationException($"'{Code}' is not a DataRow");
            var count = BinaryPrimitives.ReadInt16BigEndian(Body);
            var values = new string?[count];
            var offset = 2;
            for (var i = 0; i < count; i++)
            {
                var length = BinaryPrimitives.ReadInt32BigEndian(Body.AsSpan(offset));
                offset += 4;
                if (length < 0)
                    continue;
                values[i] = Encoding.UTF8.GetString(Body, offset, length);
                offset += length;
            }
            return values;
        }

        public override string ToString() => Code switch
        {
            'E' or 'N' => $"{Code} {SqlState} {MessageText}",
            'D' => $"D [{string.Join(" | ", Columns())}]",
            _ => $"{Code} {BodyText.Replace('\0', ' ').TrimEnd()}",
        };
    }
}
