namespace ZeroPg.Sessions.Portals;

/// <summary>
/// The DataRow messages of a portal read ahead (<see cref="SuspendedPortals"/>), in order, read back once. Kept in memory up to
/// <see cref="MemoryLimit"/>, the rest in a temporary file that is unlinked as soon as it is opened (so it is gone on every
/// path, a crash included; the open handle keeps its data until <see cref="Dispose"/>). Thread: the session.
/// </summary>
internal sealed class RowSpool : IDisposable
{
    public const int MemoryLimit = 4 * 1024 * 1024;

    private readonly Queue<byte[]> _memory = new();
    private long _memoryBytes;
    private FileStream? _file;
    private long _readAt;
    private long _fileRows;

    public long Count { get; private set; }

    public void Add(ReadOnlySpan<byte> dataRow)
    {
        Count++;
        if (_file is null && _memoryBytes + dataRow.Length <= MemoryLimit)
        {
            _memory.Enqueue(dataRow.ToArray());
            _memoryBytes += dataRow.Length;
            return;
        }
        if (_file is null)
        {
            var path = Path.Combine(Path.GetTempPath(), $"zeropg-portal-{Guid.NewGuid():N}.rows");
            _file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 64 * 1024);
            File.Delete(path);
        }
        _file.Seek(0, SeekOrigin.End);
        _file.Write(dataRow);
        _fileRows++;
    }

    /// <summary>Takes the next row (a whole DataRow message), or null when none is left.</summary>
    public byte[]? Take()
    {
        if (_memory.TryDequeue(out var row))
        {
            Count--;
            return row;
        }
        if (_file is null || _fileRows == 0)
            return null;
        _file.Seek(_readAt, SeekOrigin.Begin);
        Span<byte> header = stackalloc byte[5];
        _file.ReadExactly(header);
        var length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(header[1..]);
        var message = new byte[1 + length];
        header.CopyTo(message);
        _file.ReadExactly(message.AsSpan(5));
        _readAt += message.Length;
        _fileRows--;
        Count--;
        return message;
    }

    /// <summary>Rows went to a file (tests look at this).</summary>
    public bool Spilled => _file is not null;

    public void Dispose()
    {
        _file?.Dispose();
        _file = null;
        _memory.Clear();
    }
}
