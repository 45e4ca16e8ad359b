using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;

namespace ZeroPg.Storage.Backup;

/// <summary>
/// A base backup's files as a gzip-compressed tar, written while the engine keeps working (between
/// pg_backup_start and pg_backup_stop, so torn or changing files are repaired by WAL replay, as with
/// pg_basebackup), and read back into a directory.
/// </summary>
internal static class BaseBackupArchive
{
    // pg_basebackup's exclusions: contents rebuilt at start or not needed by a restore.
    private static readonly HashSet<string> ContentsExcluded = new(StringComparer.Ordinal)
    {
        "pg_wal", "pg_dynshmem", "pg_notify", "pg_serial", "pg_snapshots", "pg_stat_tmp", "pg_subtrans", "pg_replslot",
    };

    private static readonly HashSet<string> FilesExcluded = new(StringComparer.Ordinal)
    {
        "postmaster.pid", "postmaster.opts", "backup_label", "backup_label.old", "tablespace_map", "tablespace_map.old",
        "pg_internal.init", DataDirectoryLock.LockFileName, DataDirectoryLock.PidFileName, DirectoryMarker.FileName,
    };

    /// <summary>Writes the directory's files (and then <paramref name="extraFiles"/>, e.g. backup_label) to <paramref name="output"/>.</summary>
    public static async Task<(long DataBytes, long TarBytes, string Sha256)> WriteAsync(
        string dataDirectory, Stream output, Func<Task<IReadOnlyDictionary<string, string>>> extraFiles, CancellationToken cancellationToken)
    {
        var hashing = new HashingStream(output);
        long dataBytes = 0;
        await using (var gzip = new GZipStream(hashing, CompressionLevel.Fastest, leaveOpen: true))
        await using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (relative, isDirectory) in Walk(dataDirectory, ""))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var path = Path.Combine(dataDirectory, relative);
                if (isDirectory)
                {
                    await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, relative + "/") { Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute }, cancellationToken);
                    continue;
                }
                FileSnapshotStream snapshot;
                try
                {
                    snapshot = new FileSnapshotStream(path);
                }
                catch (Exception error) when (error is FileNotFoundException or DirectoryNotFoundException)
                {
                    continue; // dropped while we walked: WAL replay drops it too
                }
                await using (snapshot)
                {
                    await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, relative) { DataStream = snapshot, Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite }, cancellationToken);
                    dataBytes += snapshot.Length;
                }
            }
            foreach (var (name, content) in await extraFiles())
            {
                var bytes = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content));
                await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = bytes, Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite }, cancellationToken);
            }
        }
        await hashing.FlushAsync(cancellationToken);
        return (dataBytes, hashing.Length, hashing.Hash());
    }

    private static IEnumerable<(string Relative, bool IsDirectory)> Walk(string root, string relative)
    {
        var directory = Path.Combine(root, relative);
        IEnumerable<FileSystemInfo> entries;
        try
        {
            entries = new DirectoryInfo(directory).EnumerateFileSystemInfos().OrderBy(e => e.Name, StringComparer.Ordinal).ToList();
        }
        catch (DirectoryNotFoundException)
        {
            yield break;
        }
        foreach (var entry in entries)
        {
            var path = relative.Length == 0 ? entry.Name : relative + "/" + entry.Name;
            if (entry is DirectoryInfo)
            {
                // Other databases' clusters (Databases.DatabaseSite) are not the postgres database's backup.
                if (entry.Name.StartsWith("pgsql_tmp", StringComparison.Ordinal) || (relative.Length == 0 && entry.Name == Databases.DatabaseSite.FolderName))
                    continue;
                yield return (path, true);
                if (relative.Length == 0 && ContentsExcluded.Contains(entry.Name))
                {
                    if (entry.Name == "pg_wal")
                    {
                        yield return ("pg_wal/archive_status", true);
                        yield return ("pg_wal/summaries", true);
                    }
                    continue;
                }
                foreach (var inner in Walk(root, path))
                    yield return inner;
            }
            else if (!FilesExcluded.Contains(entry.Name) && !entry.Name.EndsWith(".tmp", StringComparison.Ordinal))
            {
                yield return (path, false);
            }
        }
    }

    /// <summary>Unpacks into <paramref name="target"/>, checking the archive's SHA-256 and that no entry escapes the directory.</summary>
    public static async Task<long> ExtractAsync(Stream input, string target, string expectedSha256, CancellationToken cancellationToken)
    {
        var root = Path.GetFullPath(target) + Path.DirectorySeparatorChar;
        var hashing = new HashingStream(input);
        long bytes = 0;
        await using (var gzip = new GZipStream(hashing, CompressionMode.Decompress, leaveOpen: true))
        await using (var tar = new TarReader(gzip, leaveOpen: true))
        {
            while (await tar.GetNextEntryAsync(copyData: false, cancellationToken) is { } entry)
            {
                var path = Path.GetFullPath(Path.Combine(target, entry.Name));
                if (!path.StartsWith(root, StringComparison.Ordinal) && path + Path.DirectorySeparatorChar != root)
                    throw new InvalidDataException($"the base backup holds an entry outside the directory: {entry.Name}");
                if (entry.EntryType == TarEntryType.Directory)
                {
                    Directory.CreateDirectory(path);
                    continue;
                }
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
                    continue;
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                await using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
                if (entry.DataStream is { } data)
                {
                    await data.CopyToAsync(file, cancellationToken);
                    bytes += file.Length;
                }
            }
        }
        // Drain the gzip trailer so the hash covers the whole object.
        var rest = new byte[81920];
        while (await hashing.ReadAsync(rest, cancellationToken) > 0)
        {
        }
        if (!string.Equals(hashing.Hash(), expectedSha256, StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException("the base backup's SHA-256 does not match its manifest (damaged or cut short)");
        return bytes;
    }

    /// <summary>A file's bytes as they are now, at the length it had when opened (zeros if it shrinks meanwhile).</summary>
    private sealed class FileSnapshotStream : Stream
    {
        private readonly FileStream _file;
        private readonly long _length;
        private long _position;

        public FileSnapshotStream(string path)
        {
            _file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16, FileOptions.SequentialScan);
            _length = _file.Length;
        }

        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => _length;

        public override long Position
        {
            get => _position;
            set => Seek(value, SeekOrigin.Begin);
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var want = (int)Math.Min(buffer.Length, _length - _position);
            if (want <= 0)
                return 0;
            var read = _file.Read(buffer[..want]);
            if (read == 0)
            {
                buffer[..want].Clear(); // the file shrank: pad, replay restores it
                read = want;
            }
            _position += read;
            return read;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            => ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override long Seek(long offset, SeekOrigin origin)
        {
            var target = origin switch { SeekOrigin.Begin => offset, SeekOrigin.Current => _position + offset, _ => _length + offset };
            _file.Position = Math.Min(target, _file.Length);
            _position = target;
            return target;
        }

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                _file.Dispose();
            base.Dispose(disposing);
        }
    }

    /// <summary>Passes bytes through (either direction) while counting them and computing their SHA-256.</summary>
    private sealed class HashingStream(Stream inner) : Stream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private long _length;

        public override bool CanRead => inner.CanRead;
        public override bool CanSeek => false;
        public override bool CanWrite => inner.CanWrite;
        public override long Length => _length;
        public override long Position { get => _length; set => throw new NotSupportedException(); }

        public string Hash() => Convert.ToHexStringLower(_hash.GetCurrentHash());

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var read = inner.Read(buffer);
            _hash.AppendData(buffer[..read]);
            _length += read;
            return read;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            _hash.AppendData(buffer.Span[..read]);
            _length += read;
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _hash.AppendData(buffer);
            _length += buffer.Length;
            inner.Write(buffer);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _hash.AppendData(buffer.Span);
            _length += buffer.Length;
            await inner.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                _hash.Dispose();
            base.Dispose(disposing);
        }
    }
}
