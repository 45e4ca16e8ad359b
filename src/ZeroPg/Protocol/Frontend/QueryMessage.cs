using System.Buffers;

namespace ZeroPg.Protocol.Frontend;

/// <summary>Simple Query ('Q'): one string holding one or more SQL statements.</summary>
internal static class QueryMessage
{
    public static string ReadSql(ReadOnlySpan<byte> body) => new WireReader(body).ReadCString();

    /// <summary>The SQL of a whole Query message (type, length, body), wherever its bytes lie.</summary>
    public static string ReadSql(ReadOnlySequence<byte> message)
        => ReadSql(message.IsSingleSegment ? message.FirstSpan[MessageFramer.HeaderLength..] : message.ToArray().AsSpan(MessageFramer.HeaderLength));

    public static void Write(IBufferWriter<byte> output, string sql)
    {
        var writer = new MessageWriter(output, FrontendCode.Query, sql.Length + 1);
        writer.WriteCString(sql);
        writer.Complete();
    }
}
