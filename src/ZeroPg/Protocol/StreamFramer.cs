using System.Buffers;

namespace ZeroPg.Protocol;

/// <summary>
/// Cuts a stream that arrives in chunks not aligned to messages (the engine's reply stream) into whole
/// messages with <see cref="MessageReader"/>: whole messages are handed out straight from the chunk, and
/// a message cut by the chunk's end is kept (the tail) until the next chunk completes it.
/// </summary>
internal sealed class StreamFramer(LengthWord rule = LengthWord.CountsItself)
{
    /// <summary>Receives each whole message; its bytes are valid only during the call.</summary>
    public delegate void MessageHandler(Message message);

    private byte[] _carry = new byte[1024];
    private int _carryLength;

    public void Reset() => _carryLength = 0;

    public bool HasPartialMessage => _carryLength > 0;

    public void Feed(ReadOnlySequence<byte> data, MessageHandler handler)
    {
        foreach (var segment in data)
            Feed(segment.Span, handler);
    }

    public void Feed(ReadOnlySpan<byte> chunk, MessageHandler handler)
    {
        if (_carryLength > 0 && !CompleteCarried(ref chunk, handler))
            return;
        var reader = new MessageReader(chunk, rule);
        while (reader.TryRead(out var message))
            handler(message);
        Carry(reader.Tail);
    }

    /// <summary>Completes the kept tail from the chunk; false when the chunk ran out first.</summary>
    private bool CompleteCarried(ref ReadOnlySpan<byte> chunk, MessageHandler handler)
    {
        if (_carryLength < MessageFramer.HeaderLength && !Take(ref chunk, MessageFramer.HeaderLength))
            return false;
        var whole = MessageFramer.WholeLength(_carry, rule);
        if (whole < MessageFramer.HeaderLength)
            throw new InvalidDataException($"invalid message length in a stream of type '{(char)_carry[0]}' messages");
        if (!Take(ref chunk, checked((int)whole)))
            return false;
        _carryLength = 0;
        handler(new Message(_carry.AsSpan(0, (int)whole), 0));
        return true;
    }

    /// <summary>Moves bytes from the chunk into the carry until it holds <paramref name="target"/> bytes.</summary>
    private bool Take(ref ReadOnlySpan<byte> chunk, int target)
    {
        var take = Math.Min(target - _carryLength, chunk.Length);
        Carry(chunk[..take]);
        chunk = chunk[take..];
        return _carryLength == target;
    }

    private void Carry(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
            return;
        if (_carryLength + bytes.Length > _carry.Length)
            Array.Resize(ref _carry, Math.Max(_carry.Length * 2, _carryLength + bytes.Length));
        bytes.CopyTo(_carry.AsSpan(_carryLength));
        _carryLength += bytes.Length;
    }
}
