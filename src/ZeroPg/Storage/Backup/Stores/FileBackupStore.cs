namespace ZeroPg.Storage.Backup.Stores;

/// <summary>
/// A directory as a bucket (file:///path): a local disk, or a mounted bucket such as a Cloud Run GCS
/// volume, which may have no atomic rename. So objects are written in place under their final name
/// and synced; a reader recognises a half-written one by its own checksum (see BackupObjects), never
/// by a rename having happened.
/// </summary>
internal sealed class FileBackupStore(string root, string location) : IBackupStore
{
    public string Location => location;

    public string Root => root;

    private string PathOf(string key) => Path.Combine(root, key.Replace('/', Path.DirectorySeparatorChar));

    public async Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        => await WriteAsync(PathOf(key), replace: true, data, cancellationToken);

    public async Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        try
        {
            await WriteAsync(PathOf(key), replace: false, data, cancellationToken);
            return true;
        }
        catch (IOException) when (File.Exists(PathOf(key)))
        {
            return false;
        }
    }

    /// <summary>
    /// Writes a whole object under a name of its own, then renames it into place: a reader sees the old object or the new one,
    /// never a truncated one (another server reading the lease while its holder renews it got "unable to read beyond the end
    /// of the stream" from a file rewritten in place). Without <paramref name="replace"/> the rename fails if the object exists.
    /// </summary>
    private static async Task WriteAsync(string path, bool replace, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = $"{path}.{Guid.NewGuid():N}{TemporarySuffix}";
        try
        {
            await using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 4096, FileOptions.Asynchronous))
            {
                await stream.WriteAsync(data, cancellationToken);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: replace);
        }
        finally
        {
            File.Delete(temporary); // gone already when the rename took it
        }
    }

    private const string TemporarySuffix = ".zeropg-partial";

    public async Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            return await File.ReadAllBytesAsync(PathOf(key), cancellationToken);
        }
        catch (Exception error) when (error is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    public Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken)
        => Task.FromResult<Stream>(new FileStream(PathOf(key), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan));

    public Task<IBackupUpload> BeginUploadAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 1 << 16, FileOptions.Asynchronous);
        return Task.FromResult<IBackupUpload>(new FileUpload(path, stream));
    }

    public Task<IReadOnlyList<StoredObject>> ListAsync(string prefix, CancellationToken cancellationToken)
    {
        var objects = new List<StoredObject>();
        // The prefix's directory part narrows the walk; the rest filters names.
        var slash = prefix.LastIndexOf('/');
        var start = slash < 0 ? root : PathOf(prefix[..slash]);
        if (Directory.Exists(start))
        {
            foreach (var file in new DirectoryInfo(start).EnumerateFiles("*", SearchOption.AllDirectories))
            {
                var key = Path.GetRelativePath(root, file.FullName).Replace(Path.DirectorySeparatorChar, '/');
                if (key.StartsWith(prefix, StringComparison.Ordinal) && !key.EndsWith(TemporarySuffix, StringComparison.Ordinal))
                    objects.Add(new StoredObject(key, file.Length, file.LastWriteTimeUtc));
            }
        }
        objects.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return Task.FromResult<IReadOnlyList<StoredObject>>(objects);
    }

    public Task DeleteAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        foreach (var key in keys)
        {
            var path = PathOf(key);
            try
            {
                File.Delete(path);
                // A base backup's folder goes with its last file.
                var folder = Path.GetDirectoryName(path)!;
                if (Path.GetDirectoryName(folder) is { } parent && parent != root && !Directory.EnumerateFileSystemEntries(folder).Any())
                    Directory.Delete(folder);
            }
            catch (DirectoryNotFoundException)
            {
            }
            catch (IOException)
            {
                // Not empty after all (written meanwhile): keep the folder.
            }
        }
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private sealed class FileUpload(string path, FileStream stream) : IBackupUpload
    {
        private bool _completed;

        public Stream Stream => stream;

        public async Task CompleteAsync(CancellationToken cancellationToken)
        {
            await stream.FlushAsync(cancellationToken);
            stream.Flush(flushToDisk: true);
            await stream.DisposeAsync();
            _completed = true;
        }

        public async ValueTask DisposeAsync()
        {
            if (_completed)
                return;
            await stream.DisposeAsync();
            File.Delete(path);
        }
    }
}
