using System.IO.Pipes;
using System.Runtime.InteropServices;

namespace ZeroPg.Engine;

/// <summary>
/// A second, non-blocking descriptor of the pipe behind a stream, opened through /proc/self/fd: O_NONBLOCK belongs to an open
/// file, so the stream's own descriptor stays blocking for everything else. A process's stdin and stdout are pipes; a worker
/// of the shared engine host has FIFOs opened as files (Pool.EngineFifos). Used for the reply poll
/// (<see cref="PollingPipeReader"/>) and the reader thread's writes (<see cref="NonBlockingPipe"/>).
/// </summary>
internal static partial class PipeReopen
{
    private const int O_RDONLY = 0;
    private const int O_WRONLY = 1;
    private const int O_NONBLOCK = 0x800; // Linux
    private const int O_CLOEXEC = 0x80000; // Linux: not inherited by engine hosts started later

    /// <summary>The new descriptor (the caller closes it, <see cref="Close"/>), or -1: off Linux, not a pipe or FIFO stream, no /proc, or a FIFO whose other end is gone.</summary>
    public static int NonBlocking(Stream stream, FileAccess access)
    {
        if (!OperatingSystem.IsLinux())
            return -1;
        SafeHandle? handle = stream switch
        {
            PipeStream pipe => pipe.SafePipeHandle,
            FileStream file => file.SafeFileHandle,
            _ => null,
        };
        if (handle is null || handle.IsInvalid || handle.IsClosed)
            return -1;
        var fd = open($"/proc/self/fd/{handle.DangerousGetHandle()}", (access == FileAccess.Write ? O_WRONLY : O_RDONLY) | O_NONBLOCK | O_CLOEXEC);
        GC.KeepAlive(handle);
        return fd;
    }

    public static void Close(int fd) => close(fd);

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int close(int fd);
}
