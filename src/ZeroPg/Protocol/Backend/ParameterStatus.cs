using System.Buffers;

namespace ZeroPg.Protocol.Backend;

internal static class ParameterStatus
{
    public static void Write(IBufferWriter<byte> output, string name, string value)
    {
        var writer = new MessageWriter(output, BackendCode.ParameterStatus, name.Length + value.Length + 2);
        writer.WriteCString(name);
        writer.WriteCString(value);
        writer.Complete();
    }

    public static (string Name, string Value) Read(ReadOnlySpan<byte> body)
    {
        var reader = new WireReader(body);
        return (reader.ReadCString(), reader.ReadCString());
    }
}
