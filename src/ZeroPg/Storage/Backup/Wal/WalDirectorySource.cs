using Microsoft.Win32.SafeHandles;

namespace ZeroPg.Storage.Backup.Wal;

/// <summary>
/// WAL pages read from the segment files in a pg_wal directory, while the engine may be writing them.
/// Each page is read once and kept for the source's lifetime (one scan and the upload that follows),
/// so what is shipped is exactly what was checked. Files are opened per source and closed with it: a
/// segment file may be renamed (recycled) by a checkpoint between two scans.
/// </summary>
internal sealed class WalDirectorySource(string walDirectory, uint timeline, WalGeometry geometry) : IWalPageSource, IDisposable
{
    private const int ChunkPages = 32;
    private readonly Dictionary<ulong, ReadOnlyMemory<byte>> _pages = new();
    private readonly Dictionary<ulong, SafeFileHandle?> _files = new();

    public WalGeometry Geometry => geometry;

    public uint Timeline => timeline;

    public string SegmentPath(ulong segment) => Path.Combine(walDirectory, geometry.FileName(timeline, segment));

    public ReadOnlyMemory<byte>? ReadPage(Lsn pageStart)
    {
        if (_pages.TryGetValue(pageStart.Value, out var cached))
            return cached;
        var segment = geometry.SegmentNumber(pageStart);
        if (File(segment) is not { } handle)
            return null;
        // Read ahead a few pages (within the segment): scans are sequential.
        var offset = geometry.SegmentOffset(pageStart);
        var pages = Math.Min(ChunkPages, (geometry.SegmentSize - offset) / WalGeometry.PageSize);
        var buffer = new byte[pages * WalGeometry.PageSize];
        int read;
        try
        {
            read = RandomAccess.Read(handle, buffer, offset);
        }
        catch (IOException)
        {
            return null;
        }
        for (var i = 0; i < read / WalGeometry.PageSize; i++)
            _pages.TryAdd(pageStart.Value + (ulong)(i * WalGeometry.PageSize), buffer.AsMemory(i * WalGeometry.PageSize, WalGeometry.PageSize));
        return _pages.TryGetValue(pageStart.Value, out var page) ? page : null;
    }

    /// <summary>Copies the bytes [from, to) that were read (every page in it must have been read by the scan).</summary>
    public void CopyTo(Lsn from, Lsn to, Span<byte> destination)
    {
        var position = from;
        var written = 0;
        while (position < to)
        {
            var page = WalGeometry.PageStart(position);
            var offset = (int)(position - page);
            var take = (int)Math.Min(WalGeometry.PageSize - offset, to - position);
            if (!_pages.TryGetValue(page.Value, out var bytes))
                throw new InvalidOperationException($"WAL page {page} was not read");
            bytes.Span.Slice(offset, take).CopyTo(destination[written..]);
            written += take;
            position += take;
        }
    }

    private SafeFileHandle? File(ulong segment)
    {
        if (_files.TryGetValue(segment, out var open))
            return open;
        SafeFileHandle? handle = null;
        try
        {
            handle = System.IO.File.OpenHandle(SegmentPath(segment), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception error) when (error is FileNotFoundException or DirectoryNotFoundException or IOException or UnauthorizedAccessException)
        {
        }
        _files[segment] = handle;
        return handle;
    }

    public void Dispose()
    {
        foreach (var handle in _files.Values)
            handle?.Dispose();
        _files.Clear();
        _pages.Clear();
    }
}
