using System.Buffers;

namespace ZeroPg.Protocol.Frontend;

/// <summary>Simple Query ('Q'): one string holding one or more SQL statements.</summary>
internal static class QueryMessage
{
    public static string ReadSql(ReadOnlySpan<byte> body) => new WireReader(body).ReadCString();

    public static void Write(IBufferWriter<byte> output, string sql)
    {
        var writer = new MessageWriter(output, FrontendCode.Query, sql.Length + 1);
        writer.WriteCString(sql);
        writer.Complete();
    }
}
