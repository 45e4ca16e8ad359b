namespace ZeroPg.Storage.Backup.Stores;

/// <summary>
/// Where backups live: a bucket prefix or a directory. Keys are relative to the location ("wal/...").
/// Backup objects are written once and never changed; only the lease object is rewritten by its holder.
/// </summary>
public interface IBackupStore : IAsyncDisposable
{
    /// <summary>The location as the user wrote it, for messages.</summary>
    string Location { get; }

    /// <summary>Writes a small object whole (replacing one of the same key: used for the lease only).</summary>
    Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>
    /// Writes an object only if none has that key. False when one exists. Stores that cannot tell
    /// (an S3 server without conditional writes) write and return true; the lease checks afterwards.
    /// </summary>
    Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>A whole small object, or null when there is none.</summary>
    Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken);

    /// <summary>Reads a (large) object as a stream.</summary>
    Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken);

    /// <summary>Starts writing a large object; it exists only once <see cref="IBackupUpload.CompleteAsync"/> returned.</summary>
    Task<IBackupUpload> BeginUploadAsync(string key, CancellationToken cancellationToken);

    /// <summary>Every object whose key starts with <paramref name="prefix"/>.</summary>
    Task<IReadOnlyList<StoredObject>> ListAsync(string prefix, CancellationToken cancellationToken);

    Task DeleteAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken);
}

/// <summary>A large object being written: write to <see cref="Stream"/>, then complete; disposing before that abandons it.</summary>
public interface IBackupUpload : IAsyncDisposable
{
    Stream Stream { get; }

    Task CompleteAsync(CancellationToken cancellationToken);
}

public sealed record StoredObject(string Key, long Size, DateTimeOffset LastModified);

/// <summary>The backup location itself is wrong or gone (a bucket that does not exist): a message for the user, with a hint.</summary>
public sealed class BackupStoreException(string message, Exception? inner = null) : IOException(message, inner);
