using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using ZeroPg.Platform.Linux;
using static ZeroPg.Platform.Linux.LinuxLibc;

namespace ZeroPg.Engine.Pool;

/// <summary>
/// The two FIFOs of one engine of the shared host: requests (server to engine) and replies (engine to server). The server
/// opens its ends first, without waiting for the other side: requests read-write (a FIFO opened so never blocks, and the
/// engine reads end-of-file only when this end closes, as a host process reads it on stdin), replies read-only and
/// non-blocking, then made blocking again (its reader starts only once the host has opened the write end: before, a read
/// would see end-of-file). The names are removed once the host has opened them. Linux only (<see cref="LinuxLibc"/>).
/// </summary>
internal sealed class EngineFifos
{
    // O_CLOEXEC: never inherited by the engine processes this server starts, whose end-of-file depends on it.
    private const uint OwnerReadWrite = (uint)(UnixFileMode.UserRead | UnixFileMode.UserWrite); // 0600

    public required string RequestsPath { get; init; }
    public required string RepliesPath { get; init; }
    public required FileStream Requests { get; init; }
    public required FileStream Replies { get; init; }

    public static EngineFifos Create()
    {
        var stem = Path.Combine(Path.GetTempPath(), Hosting.KilledProcessLeftovers.Name(Hosting.KilledProcessLeftovers.EngineFifos));
        var requestsPath = stem + ".in";
        var repliesPath = stem + ".out";
        Make(requestsPath);
        try
        {
            Make(repliesPath);
            var requests = OpenOrThrow(requestsPath, O_RDWR | O_CLOEXEC);
            var replies = OpenOrThrow(repliesPath, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
            var flags = Fcntl(replies, F_GETFL, 0);
            if (flags < 0 || Fcntl(replies, F_SETFL, flags & ~O_NONBLOCK) < 0)
                throw new IOException($"fcntl on {repliesPath} failed: errno {Marshal.GetLastPInvokeError()}");
            return new EngineFifos
            {
                RequestsPath = requestsPath,
                RepliesPath = repliesPath,
                Requests = new FileStream(new SafeFileHandle(requests, ownsHandle: true), FileAccess.Write, bufferSize: 0),
                Replies = new FileStream(new SafeFileHandle(replies, ownsHandle: true), FileAccess.Read, bufferSize: 0),
            };
        }
        catch
        {
            File.Delete(requestsPath);
            File.Delete(repliesPath);
            throw;
        }
    }

    /// <summary>The host has opened both: the names are no longer needed (the descriptors stay).</summary>
    public void Unlink()
    {
        File.Delete(RequestsPath);
        File.Delete(RepliesPath);
    }

    private static void Make(string path)
    {
        if (MkFifo(path, OwnerReadWrite) != 0)
            throw new IOException($"mkfifo {path} failed: errno {Marshal.GetLastPInvokeError()}");
    }

    private static nint OpenOrThrow(string path, int flags)
    {
        var fd = LinuxLibc.Open(path, flags);
        if (fd < 0)
            throw new IOException($"open {path} failed: errno {Marshal.GetLastPInvokeError()}");
        return fd;
    }
}
