using System.Buffers;
using System.Buffers.Binary;

namespace ZeroPg.Sessions;

/// <summary>
/// Cuts the engine's reply stream, which arrives in chunks not aligned to messages, into whole
/// backend messages. A message split across chunks is gathered in a carry buffer.
/// </summary>
internal sealed class BackendMessageFramer
{
    /// <summary>Receives each whole message: the type byte, the length and the body.</summary>
    public delegate void MessageHandler(byte code, ReadOnlySpan<byte> message);

    private byte[] _carry = new byte[1024];
    private int _carryLength;

    public void Reset() => _carryLength = 0;

    public bool HasPartialMessage => _carryLength > 0;

    public void Feed(ReadOnlySequence<byte> data, MessageHandler handler)
    {
        foreach (var segment in data)
            Feed(segment.Span, handler);
    }

    public void Feed(ReadOnlySpan<byte> span, MessageHandler handler)
    {
        while (span.Length > 0)
        {
            if (_carryLength > 0)
            {
                if (_carryLength < 5)
                {
                    var headerPart = Math.Min(5 - _carryLength, span.Length);
                    Carry(span[..headerPart]);
                    span = span[headerPart..];
                    if (_carryLength < 5)
                        return;
                }
                var total = 1 + BinaryPrimitives.ReadInt32BigEndian(_carry.AsSpan(1));
                var take = Math.Min(total - _carryLength, span.Length);
                Carry(span[..take]);
                span = span[take..];
                if (_carryLength < total)
                    return;
                _carryLength = 0;
                handler(_carry[0], _carry.AsSpan(0, total));
                continue;
            }
            if (span.Length < 5)
            {
                Carry(span);
                return;
            }
            var length = 1 + BinaryPrimitives.ReadInt32BigEndian(span[1..]);
            if (span.Length < length)
            {
                Carry(span);
                return;
            }
            handler(span[0], span[..length]);
            span = span[length..];
        }
    }

    private void Carry(ReadOnlySpan<byte> bytes)
    {
        if (_carryLength + bytes.Length > _carry.Length)
            Array.Resize(ref _carry, Math.Max(_carry.Length * 2, _carryLength + bytes.Length));
        bytes.CopyTo(_carry.AsSpan(_carryLength));
        _carryLength += bytes.Length;
    }
}
