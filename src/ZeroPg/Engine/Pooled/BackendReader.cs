using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace ZeroPg.Engine.Pooled;

/// <summary>
/// A backend's bytes framed into whole messages, read in large chunks so a reply of many messages costs one read; a message
/// longer than the buffer grows it. Thread: whoever holds the backend (one reader at a time).
/// </summary>
internal sealed class BackendReader(Stream stream)
{
    private byte[] _buffer = new byte[32 * 1024];
    private int _start;
    private int _end;

    /// <summary>The next whole message if one is buffered (valid until the next <see cref="FillAsync"/>).</summary>
    public bool TryTake(out ReadOnlyMemory<byte> message)
    {
        var available = _end - _start;
        if (available >= 5)
        {
            var whole = 1 + BinaryPrimitives.ReadInt32BigEndian(_buffer.AsSpan(_start + 1));
            if (whole < 5)
                throw new InvalidDataException($"invalid length in a backend message of type '{(char)_buffer[_start]}'");
            if (available >= whole)
            {
                message = _buffer.AsMemory(_start, whole);
                _start += whole;
                return true;
            }
        }
        message = default;
        return false;
    }

    /// <summary>Reads more bytes; false when the backend closed the connection.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // one wait per reply: no state machine allocated each time
    public async ValueTask<bool> FillAsync(CancellationToken cancellationToken = default)
    {
        if (_start == _end)
            _start = _end = 0;
        var needed = _end - _start >= 5 ? 1 + BinaryPrimitives.ReadInt32BigEndian(_buffer.AsSpan(_start + 1)) : 5;
        if (_buffer.Length - _start < needed || _end == _buffer.Length)
        {
            var next = needed > _buffer.Length ? new byte[Math.Max(needed, _buffer.Length * 2)] : _buffer;
            Buffer.BlockCopy(_buffer, _start, next, 0, _end - _start);
            _end -= _start;
            _start = 0;
            _buffer = next;
        }
        var read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
        _end += read;
        return read > 0;
    }

    /// <summary>The next whole message, reading as needed; null when the backend closed the connection.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ReadOnlyMemory<byte>?> ReadAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (TryTake(out var message))
                return message;
            if (!await FillAsync(cancellationToken))
                return null;
        }
    }
}
