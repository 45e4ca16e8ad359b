using System.IO.MemoryMappedFiles;
using Microsoft.Extensions.Logging;

namespace ZeroPg.Engine;

/// <summary>
/// Tells the polling engine host how many request bytes have been announced on its stdin, through
/// 8 bytes of shared memory (a file in /dev/shm, mapped here, read with pread there). Node can only poll
/// a pipe with reads that throw on EAGAIN, an exception object per empty poll; a counter it reads
/// without failing allocates nothing. Announced before a blocking write, so the host never waits on a write
/// that is half done.
/// </summary>
internal sealed partial class EngineDoorbell : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private long _announced;

    private EngineDoorbell(string path, MemoryMappedFile file, MemoryMappedViewAccessor view)
    {
        Path = path;
        _file = file;
        _view = view;
    }

    /// <summary>The file the host opens; deleted once the host has it open.</summary>
    public string Path { get; }

    public static EngineDoorbell Create()
    {
        var directory = Directory.Exists("/dev/shm") ? "/dev/shm" : System.IO.Path.GetTempPath();
        // A server killed before its host opened the file leaves it: named for Hosting/KilledProcessLeftovers.
        var path = System.IO.Path.Combine(directory, Hosting.KilledProcessLeftovers.Name(Hosting.KilledProcessLeftovers.Doorbell));
        var file = MemoryMappedFile.CreateFromFile(path, FileMode.CreateNew, mapName: null, capacity: 8, MemoryMappedFileAccess.ReadWrite);
        return new EngineDoorbell(path, file, file.CreateViewAccessor(0, 8));
    }

    /// <summary>A doorbell, or null (logged) where shared memory is not to be had: the host then blocks at once instead of polling.</summary>
    public static EngineDoorbell? TryCreate(ILogger logger)
    {
        try
        {
            return Create();
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            Log.NoDoorbell(logger, error.Message);
            return null;
        }
    }

    /// <summary>
    /// Called under the engine's write lock, before a blocking write of <paramref name="bytes"/> (after a write that could not
    /// wait: NonBlockingPipe). Either way the host counts each byte once, and finds in the pipe every byte it was told of.
    /// </summary>
    public void Announce(int bytes)
    {
        _announced += bytes;
        _view.Write(0, _announced);
    }

    /// <summary>
    /// The requests end (the server closes the host's input): counted as one byte more, so a host that waits for a request
    /// before it collects its garbage (stdio.mjs <c>waitForRequest</c>) wakes at once and reads the input's end, instead of
    /// finding it only after its wait and a collection.
    /// </summary>
    public void AnnounceEnd() => Announce(1);

    /// <summary>The host opened the file: its name is no longer needed (nothing is left behind if we die).</summary>
    public void Unlink()
    {
        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
            // Best effort: a leftover 8-byte file in a temp directory.
        }
    }

    public void Dispose()
    {
        _view.Dispose();
        _file.Dispose();
        Unlink();
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "the engine host will not poll for requests: no shared-memory doorbell ({Message})")]
        public static partial void NoDoorbell(ILogger logger, string message);
    }
}
