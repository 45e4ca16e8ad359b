using System.Buffers;
using System.Text;
using ZeroPg.Protocol;

namespace ZeroPg.Replication.Walsender;

/// <summary>The backend messages a walsender writes itself (the engine never sees replication commands):
/// one-row results of text/int8 columns, and the COPY BOTH framing of a stream.</summary>
internal static class WalsenderReplies
{
    public const uint TextOid = 25;
    public const uint Int8Oid = 20;

    public static void RowDescription(IBufferWriter<byte> output, params (string Name, uint TypeOid)[] columns)
    {
        var w = new MessageWriter(output, BackendCode.RowDescription);
        w.WriteInt16((short)columns.Length);
        foreach (var (name, type) in columns)
        {
            w.WriteCString(Encoding.UTF8.GetBytes(name));
            w.WriteInt32(0); // table oid
            w.WriteInt16(0); // column number
            w.WriteInt32((int)type);
            w.WriteInt16(type == Int8Oid ? (short)8 : (short)-1);
            w.WriteInt32(-1); // typmod
            w.WriteInt16(0); // text format
        }
        w.Complete();
    }

    public static void DataRow(IBufferWriter<byte> output, params string?[] values)
    {
        var w = new MessageWriter(output, BackendCode.DataRow);
        w.WriteInt16((short)values.Length);
        foreach (var value in values)
        {
            if (value is null)
            {
                w.WriteInt32(-1);
                continue;
            }
            var bytes = Encoding.UTF8.GetBytes(value);
            w.WriteInt32(bytes.Length);
            w.WriteBytes(bytes);
        }
        w.Complete();
    }

    /// <summary>'W': text format overall, no columns (what walsender sends before streaming).</summary>
    public static void CopyBothResponse(IBufferWriter<byte> output)
    {
        var w = new MessageWriter(output, BackendCode.CopyBothResponse, 3);
        w.WriteByte(0);
        w.WriteInt16(0);
        w.Complete();
    }

    public static void CopyData(IBufferWriter<byte> output, ReadOnlySpan<byte> payload)
    {
        var w = new MessageWriter(output, BackendCode.CopyData, payload.Length);
        w.WriteBytes(payload);
        w.Complete();
    }

    public static void CopyDone(IBufferWriter<byte> output)
    {
        var w = new MessageWriter(output, BackendCode.CopyDone, 0);
        w.Complete();
    }
}
