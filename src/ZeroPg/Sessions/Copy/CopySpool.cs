using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace ZeroPg.Sessions.Copy;

/// <summary>
/// A COPY's data as the client sends it, kept until CopyDone: in memory up to <see cref="MemoryBytes"/>, then
/// in a temporary file that is unlinked the moment it is opened, so it is gone on every path (CopyFail,
/// disconnect, a crash of the server) once its handle closes. Read back by offset, piece by piece.
/// Thread: the session.
/// </summary>
internal sealed class CopySpool : IDisposable
{
    public const int MemoryBytes = 4 << 20;
    private const int WriteBufferBytes = 1 << 20;

    private byte[] _memory = new byte[64 * 1024];
    private int _memoryLength;
    private SafeFileHandle? _file;
    private byte[]? _writeBuffer;
    private int _buffered;
    private long _fileLength;

    /// <summary>Bytes held.</summary>
    public long Length => _file is null ? _memoryLength : _fileLength + _buffered;

    /// <summary>The data went past memory to a temporary file.</summary>
    public bool Spilled => _file is not null;

    public void Append(ReadOnlySequence<byte> data)
    {
        foreach (var segment in data)
            Append(segment.Span);
    }

    public void Append(ReadOnlySpan<byte> data)
    {
        if (_file is null)
        {
            if (_memoryLength + data.Length <= MemoryBytes)
            {
                if (_memoryLength + data.Length > _memory.Length)
                    Array.Resize(ref _memory, Math.Min(MemoryBytes, Math.Max(_memory.Length * 2, _memoryLength + data.Length)));
                data.CopyTo(_memory.AsSpan(_memoryLength));
                _memoryLength += data.Length;
                return;
            }
            Spill();
        }
        if (_buffered + data.Length > _writeBuffer!.Length)
            FlushWrites();
        if (data.Length >= _writeBuffer.Length)
        {
            RandomAccess.Write(_file!, data, _fileLength);
            _fileLength += data.Length;
            return;
        }
        data.CopyTo(_writeBuffer.AsSpan(_buffered));
        _buffered += data.Length;
    }

    /// <summary>Reads bytes from <paramref name="offset"/> into <paramref name="into"/>; returns how many (fewer only at the end).</summary>
    public int Read(long offset, Span<byte> into)
    {
        if (_file is null)
        {
            var available = (int)Math.Max(0, Math.Min(into.Length, _memoryLength - offset));
            _memory.AsSpan((int)offset, available).CopyTo(into);
            return available;
        }
        FlushWrites();
        var total = 0;
        while (total < into.Length)
        {
            var read = RandomAccess.Read(_file, into[total..], offset + total);
            if (read == 0)
                break;
            total += read;
        }
        return total;
    }

    private void Spill()
    {
        var path = Path.Combine(Path.GetTempPath(), $"zeropg-copy-{Environment.ProcessId}-{Guid.NewGuid():N}.tmp");
        _file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
        File.Delete(path); // unlinked at once: the handle keeps the data, nothing is left behind on any exit
        _writeBuffer = ArrayPool<byte>.Shared.Rent(WriteBufferBytes);
        RandomAccess.Write(_file, _memory.AsSpan(0, _memoryLength), 0);
        _fileLength = _memoryLength;
        _memory = [];
        _memoryLength = 0;
    }

    private void FlushWrites()
    {
        if (_buffered == 0)
            return;
        RandomAccess.Write(_file!, _writeBuffer.AsSpan(0, _buffered), _fileLength);
        _fileLength += _buffered;
        _buffered = 0;
    }

    public void Dispose()
    {
        _file?.Dispose();
        _file = null;
        if (_writeBuffer is not null)
            ArrayPool<byte>.Shared.Return(_writeBuffer);
        _writeBuffer = null;
        _memory = [];
        _memoryLength = 0;
    }
}
