using System.Runtime.InteropServices;

namespace ZeroPg.Engine;

/// <summary>
/// A write to a pipe or FIFO that never waits: a frame of at most <see cref="AtomicBytes"/> goes in whole or not at all
/// (POSIX makes such writes atomic; with O_NONBLOCK a full pipe answers EAGAIN instead of taking a part). The engine's
/// reader thread writes requests this way (<see cref="EngineProcess"/>): a blocking write there could wait on a full pipe
/// while the host waits for the reader to take its replies, and moving the write to the thread pool costs a thread hop and
/// the pool's spinning per statement.
/// It writes through a second, non-blocking descriptor of the same pipe (<see cref="Platform.Linux.PipeReopen"/>): the stream's own stays
/// blocking for every other write, and a write here is one system call (switching the flag on and off around each write
/// took two more). Linux only; elsewhere (and for any other stream) <see cref="Open"/> gives null.
/// </summary>
internal sealed class NonBlockingPipe : IDisposable
{
    /// <summary>PIPE_BUF on Linux.</summary>
    public const int AtomicBytes = Platform.Linux.LinuxLibc.PIPE_BUF;

    private int _fd;

    private NonBlockingPipe(int fd) => _fd = fd;

    /// <summary>
    /// A non-blocking writer to the pipe a process's stdin or a FIFO opened as a file writes to; null for any other stream,
    /// off Linux, or when the pipe cannot be opened again (no /proc, or its reader is already gone).
    /// </summary>
    public static NonBlockingPipe? Open(Stream stream)
        => Platform.Linux.PipeReopen.NonBlocking(stream, FileAccess.Write) is var fd and >= 0 ? new NonBlockingPipe(fd) : null;

    /// <summary>
    /// Writes all of <paramref name="frame"/> now (true) or nothing (false: the pipe has not room for all of it). The caller
    /// holds the only right to write (the engine's write lock): no other write to the same pipe overlaps this one.
    /// </summary>
    /// <exception cref="IOException">The pipe is closed (the host is gone), or the write failed otherwise.</exception>
    public unsafe bool TryWrite(ReadOnlySpan<byte> frame)
    {
        if (frame.Length > AtomicBytes)
            return false;
        var fd = Volatile.Read(ref _fd);
        if (fd < 0)
            throw new IOException("the engine's requests are closed");
        nint written;
        fixed (byte* bytes = frame)
            written = Platform.Linux.LinuxLibc.Write(fd, bytes, frame.Length);
        if (written == frame.Length)
            return true;
        var error = Marshal.GetLastPInvokeError();
        if (written < 0 && error == Platform.Linux.LinuxLibc.EAGAIN)
            return false;
        throw new IOException(written < 0 ? $"write to the engine's requests failed: errno {error}" : $"a {frame.Length}-byte write to the engine's requests took {written} bytes");
    }

    /// <summary>Closes this descriptor; the stream's own stays open (the host sees its input close only when that one closes).</summary>
    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
            Platform.Linux.PipeReopen.Close(fd);
    }
}
