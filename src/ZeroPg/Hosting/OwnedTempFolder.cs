namespace ZeroPg.Hosting;

/// <summary>
/// A folder of this process in the temporary directory (<c>zeropg-KIND-PID-GUID</c>) that outlives a start: a memory://
/// server's database seeds, its snapshots. Made on first use; while it exists the process holds an exclusive lock on
/// its <see cref="OwnerFile"/> (.NET's <see cref="FileShare.None"/> is flock on Unix), which the kernel drops when the
/// process dies, however it dies. So <see cref="KilledProcessLeftovers"/> can tell an abandoned folder from one whose
/// owner still runs, also when that owner's PID is of another PID namespace sharing the directory. Thread-safe.
/// </summary>
internal sealed class OwnedTempFolder(string kind) : IDisposable
{
    public const string OwnerFile = ".zeropg-owner";

    private readonly Lock _gate = new();
    private FileStream? _owner;

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), KilledProcessLeftovers.Name(kind));

    /// <summary>Makes the folder and takes its lock, once; returns <see cref="Path"/>.</summary>
    public string Ensure()
    {
        lock (_gate)
        {
            if (_owner is null)
            {
                Directory.CreateDirectory(Path);
                _owner = new FileStream(System.IO.Path.Combine(Path, OwnerFile), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
        }
        return Path;
    }

    /// <summary>True when no process holds the lock on the folder's owner file (its owner is gone); null when it has none.</summary>
    public static bool? IsAbandoned(string folder)
    {
        try
        {
            using (new FileStream(System.IO.Path.Combine(folder, OwnerFile), FileMode.Open, FileAccess.ReadWrite, FileShare.None))
                return true;
        }
        catch (Exception error) when (error is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return false; // held: its owner runs (or another user's)
        }
    }

    /// <summary>
    /// Drops the lock and removes the folder with everything in it. Best effort: what cannot be removed now (a file
    /// still open elsewhere) is an abandoned folder once the lock is dropped, and the next process's sweep removes it.
    /// </summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _owner?.Dispose();
            _owner = null;
        }
        try
        {
            if (Directory.Exists(Path))
                Directory.Delete(Path, recursive: true);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            // left for KilledProcessLeftovers
        }
    }
}
