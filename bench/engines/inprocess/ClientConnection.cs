using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;

namespace ZeroPg.Bench.InProcess;

/// <summary>A client's bytes: read by its connection's loop, written by whichever thread has its reply.</summary>
internal interface IClientConnection : IReplyTarget
{
    /// <summary>The next <paramref name="count"/> bytes; valid until the next read.</summary>
    ValueTask<ReadOnlyMemory<byte>> ReadAsync(int count);
}

/// <summary>A socket read with <see cref="Socket.ReceiveAsync(Memory{byte}, SocketFlags, CancellationToken)"/> and written with
/// <see cref="Socket.Send(ReadOnlySpan{byte})"/>: no transport between the connection and the kernel.</summary>
internal sealed class SocketClient(Socket socket) : IClientConnection
{
    private byte[] _input = new byte[65536];
    private int _start, _end;

    public async ValueTask<ReadOnlyMemory<byte>> ReadAsync(int count)
    {
        if (_end - _start < count)
        {
            Buffer.BlockCopy(_input, _start, _input, 0, _end - _start);
            _end -= _start;
            _start = 0;
            if (_input.Length < count)
                Array.Resize(ref _input, count * 2);
            while (_end < count)
            {
                var read = await socket.ReceiveAsync(_input.AsMemory(_end), SocketFlags.None);
                if (read == 0)
                    throw new EndOfStreamException();
                _end += read;
            }
        }
        var bytes = _input.AsMemory(_start, count);
        _start += count;
        return bytes;
    }

    public void Send(ReadOnlySpan<byte> bytes)
    {
        try { socket.Send(bytes); }
        catch (SocketException) { }
        catch (ObjectDisposedException) { }
    }
}

/// <summary>A Kestrel connection's pipes, as ZeroPg's server has them: the transport's receive loop fills the input pipe,
/// a write goes into the output pipe and its flush hands it to the transport's send loop.</summary>
internal sealed class KestrelClient(IDuplexPipe transport) : IClientConnection
{
    private readonly Lock _writeLock = new();
    private byte[] _read = new byte[65536];

    public async ValueTask<ReadOnlyMemory<byte>> ReadAsync(int count)
    {
        var result = await transport.Input.ReadAtLeastAsync(count);
        if (result.Buffer.Length < count)
            throw new EndOfStreamException();
        if (_read.Length < count)
            _read = new byte[count * 2];
        var slice = result.Buffer.Slice(0, count);
        slice.CopyTo(_read);
        transport.Input.AdvanceTo(slice.End);
        return _read.AsMemory(0, count);
    }

    public void Send(ReadOnlySpan<byte> bytes)
    {
        lock (_writeLock)
        {
            transport.Output.Write(bytes);
            var flush = transport.Output.FlushAsync();
            if (!flush.IsCompleted)
                flush.AsTask().GetAwaiter().GetResult();
        }
    }
}
