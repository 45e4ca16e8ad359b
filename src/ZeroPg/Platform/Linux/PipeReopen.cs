using System.IO.Pipes;
using System.Runtime.InteropServices;
using static ZeroPg.Platform.Linux.LinuxLibc;

namespace ZeroPg.Platform.Linux;

/// <summary>
/// A second, non-blocking descriptor of the pipe behind a stream, opened through /proc/self/fd: O_NONBLOCK belongs to an open
/// file, so the stream's own descriptor stays blocking for everything else. A process's stdin and stdout are pipes; a worker
/// of the shared engine host has FIFOs opened as files (Pool.EngineFifos). Used for the reply poll
/// (<see cref="Engine.PollingPipeReader"/>) and the reader thread's writes (<see cref="Engine.NonBlockingPipe"/>). O_CLOEXEC: not
/// inherited by engine hosts started later.
/// </summary>
internal static class PipeReopen
{
    /// <summary>The new descriptor (the caller closes it, <see cref="Close"/>), or -1: off Linux, not a pipe or FIFO stream, no /proc, or a FIFO whose other end is gone.</summary>
    public static int NonBlocking(Stream stream, FileAccess access)
    {
        if (!ProcFs.Available)
            return -1;
        SafeHandle? handle = stream switch
        {
            PipeStream pipe => pipe.SafePipeHandle,
            FileStream file => file.SafeFileHandle,
            _ => null,
        };
        if (handle is null || handle.IsInvalid || handle.IsClosed)
            return -1;
        var fd = Open(ProcFs.OwnDescriptorPath(handle.DangerousGetHandle()), (access == FileAccess.Write ? O_WRONLY : O_RDONLY) | O_NONBLOCK | O_CLOEXEC);
        GC.KeepAlive(handle);
        return fd;
    }

    public static void Close(int fd) => LinuxLibc.Close(fd);
}
