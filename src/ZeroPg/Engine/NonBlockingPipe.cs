using System.IO.Pipes;
using System.Runtime.InteropServices;

namespace ZeroPg.Engine;

/// <summary>
/// A write to a pipe or FIFO that never waits: a frame of at most <see cref="AtomicBytes"/> goes in whole or not at all
/// (POSIX makes such writes atomic; with O_NONBLOCK a full pipe answers EAGAIN instead of taking a part). The engine's
/// reader thread writes requests this way (<see cref="EngineProcess"/>): a blocking write there could wait on a full pipe
/// while the host waits for the reader to take its replies, and moving the write to the thread pool costs a thread hop and
/// the pool's spinning per statement. Linux only; elsewhere (and for any other stream) there is no handle and no attempt.
/// </summary>
internal static partial class NonBlockingPipe
{
    /// <summary>PIPE_BUF on Linux.</summary>
    public const int AtomicBytes = 4096;

    private const int F_GETFL = 3;
    private const int F_SETFL = 4;
    private const int O_NONBLOCK = 0x800; // Linux
    private const int EAGAIN = 11;

    /// <summary>The descriptor of a process's stdin pipe or of a FIFO opened as a file; null for anything else, or off Linux.</summary>
    public static SafeHandle? HandleOf(Stream stream) => !OperatingSystem.IsLinux() ? null : stream switch
    {
        FileStream file => file.SafeFileHandle,
        PipeStream pipe => pipe.SafePipeHandle,
        _ => null,
    };

    /// <summary>
    /// Writes all of <paramref name="frame"/> now (true) or nothing (false: the pipe has not room for all of it). The caller
    /// holds the only right to write (the engine's write lock): the descriptor is non-blocking only for this write, which no
    /// other write to the same pipe overlaps.
    /// </summary>
    /// <exception cref="IOException">The pipe is closed (the host is gone), or the write failed otherwise.</exception>
    public static unsafe bool TryWrite(SafeHandle handle, ReadOnlySpan<byte> frame)
    {
        if (frame.Length > AtomicBytes)
            return false;
        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            var fd = (int)handle.DangerousGetHandle();
            var flags = fcntl(fd, F_GETFL, 0);
            if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
                throw new IOException($"fcntl on the engine's requests failed: errno {Marshal.GetLastPInvokeError()}");
            nint written;
            int error;
            try
            {
                fixed (byte* bytes = frame)
                    written = write(fd, bytes, frame.Length);
                error = Marshal.GetLastPInvokeError();
            }
            finally
            {
                fcntl(fd, F_SETFL, flags);
            }
            if (written == frame.Length)
                return true;
            if (written < 0 && error == EAGAIN)
                return false;
            throw new IOException(written < 0 ? $"write to the engine's requests failed: errno {error}" : $"a {frame.Length}-byte write to the engine's requests took {written} bytes");
        }
        finally
        {
            if (added)
                handle.DangerousRelease();
        }
    }

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int fcntl(int fd, int command, int argument);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static unsafe partial nint write(int fd, byte* buffer, nint count);
}
