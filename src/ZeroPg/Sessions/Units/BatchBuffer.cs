using System.Buffers;
using ZeroPg.Engine;

namespace ZeroPg.Sessions;

/// <summary>
/// Whole protocol messages collected for one engine host frame. Room for the frame header is kept at
/// the front, so a batch goes to the engine host in one write without another copy.
/// </summary>
internal sealed class BatchBuffer : IBufferWriter<byte>
{
    private byte[] _buffer;
    private int _length = HostFrame.HeaderLength;

    public BatchBuffer(int initialCapacity = 4096) => _buffer = new byte[initialCapacity];

    /// <summary>Bytes of messages held (the frame header not counted).</summary>
    public int MessageBytes => _length - HostFrame.HeaderLength;

    public bool IsEmpty => _length == HostFrame.HeaderLength;

    public ReadOnlySpan<byte> Messages => _buffer.AsSpan(HostFrame.HeaderLength, MessageBytes);

    public void Append(ReadOnlySequence<byte> message)
    {
        var length = (int)message.Length;
        message.CopyTo(GetSpan(length));
        Advance(length);
    }

    public void Append(ReadOnlySpan<byte> message)
    {
        message.CopyTo(GetSpan(message.Length));
        Advance(message.Length);
    }

    /// <summary>The frame holding every message, header filled in.</summary>
    public ReadOnlyMemory<byte> Frame(HostRequestKind kind = HostRequestKind.Batch) => Frame(kind, MessageBytes);

    /// <summary>The frame holding the first <paramref name="messageBytes"/> bytes of messages, header filled in.</summary>
    public ReadOnlyMemory<byte> Frame(HostRequestKind kind, int messageBytes)
    {
        HostFrame.WriteHeader(_buffer, kind, messageBytes);
        return _buffer.AsMemory(0, HostFrame.HeaderLength + messageBytes);
    }

    /// <summary>Drops the first <paramref name="messageBytes"/> bytes of messages after they were sent.</summary>
    public void Consume(int messageBytes)
    {
        var rest = MessageBytes - messageBytes;
        if (rest > 0)
            Buffer.BlockCopy(_buffer, HostFrame.HeaderLength + messageBytes, _buffer, HostFrame.HeaderLength, rest);
        _length = HostFrame.HeaderLength + rest;
        if (_buffer.Length > 1 << 20 && _length < 64 * 1024)
        {
            // Do not keep a huge buffer alive for an idle connection after one large batch.
            var smaller = new byte[64 * 1024];
            Buffer.BlockCopy(_buffer, 0, smaller, 0, _length);
            _buffer = smaller;
        }
    }

    public void Clear() => _length = HostFrame.HeaderLength;

    public void Advance(int count) => _length += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_length);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_length);
    }

    private void Ensure(int sizeHint)
    {
        var needed = _length + Math.Max(sizeHint, 1);
        if (needed <= _buffer.Length)
            return;
        var grown = new byte[Math.Max(needed, _buffer.Length * 2)];
        Buffer.BlockCopy(_buffer, 0, grown, 0, _length);
        _buffer = grown;
    }
}
