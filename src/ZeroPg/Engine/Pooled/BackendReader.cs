using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using ZeroPg.Platform.Linux;

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
    private int? _readDone; // bytes a stream's read put at _end while its caller awaited it (TryFill)

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
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> FillAsync(CancellationToken cancellationToken = default)
    {
        Fill fill;
        while ((fill = TryFill(out var wait, cancellationToken)) == Fill.Wait)
            await wait;
        return fill == Fill.Read;
    }

    /// <summary>
    /// Reads more bytes if the backend has sent some (<see cref="Fill.Read"/>) or closed the connection (<see cref="Fill.Ended"/>),
    /// without waiting; <see cref="Fill.Wait"/>: await <paramref name="wait"/>, then call again. For a reader that awaits the
    /// socket itself (the pool's forwarder, once per reply): on the pool's event loop no async method is then between it and the
    /// socket's edge.
    /// </summary>
    public Fill TryFill(out ValueTask wait, CancellationToken cancellationToken = default)
    {
        wait = default;
        if (_readDone is { } done)
        {
            _readDone = null; // the read the last wait made (a stream other than the event loop's)
            _end += done;
            return done > 0 ? Fill.Read : Fill.Ended;
        }
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
        if (stream is EpollSocketStream socket)
        {
            if (!socket.TryRead(_buffer.AsMemory(_end), out var read, out wait, cancellationToken))
                return Fill.Wait;
            _end += read;
            return read > 0 ? Fill.Read : Fill.Ended;
        }
        wait = ReadIntoBufferAsync(_buffer.AsMemory(_end), cancellationToken);
        return Fill.Wait;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))] // one wait per reply: no state machine allocated each time
    private async ValueTask ReadIntoBufferAsync(Memory<byte> into, CancellationToken cancellationToken) =>
        _readDone = await stream.ReadAsync(into, cancellationToken);

    /// <summary>What <see cref="TryFill"/> did.</summary>
    public enum Fill : byte
    {
        Read,
        Ended,
        Wait,
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
