using System.Diagnostics;
using System.IO.Pipes;
using System.Runtime.InteropServices;

namespace ZeroPg.Engine;

/// <summary>
/// Reads the engine host's output pipe, polling it for a short while before blocking when a reply is
/// due. Waking a thread blocked in read(2) costs tens of microseconds on a virtual machine (the idle
/// CPU halts and must be woken), more than a small query takes in the engine; a poll through a second,
/// non-blocking descriptor of the same pipe sees the reply within a microsecond of its write.
/// Without Linux's /proc (or with a zero budget) it is a plain blocking read.
/// </summary>
internal sealed partial class PollingPipeReader : IDisposable
{
    private const int O_RDONLY = 0;
    private const int O_NONBLOCK = 0x800; // Linux
    private const int O_CLOEXEC = 0x80000; // Linux: not inherited by engine hosts started later
    private const int EAGAIN = 11;

    private readonly Stream _blocking;
    private readonly long _budgetTicks;
    private int _pollFd = -1;

    public PollingPipeReader(Stream pipe, TimeSpan budget)
    {
        _blocking = pipe;
        _budgetTicks = (long)(budget.TotalSeconds * Stopwatch.Frequency);
        if (_budgetTicks > 0 && OperatingSystem.IsLinux() && pipe is PipeStream { SafePipeHandle: var handle })
            _pollFd = open($"/proc/self/fd/{handle.DangerousGetHandle()}", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    }

    /// <summary>Reads at least one byte (0 at end of stream). Polls first when <paramref name="expectingData"/>.</summary>
    public int Read(byte[] buffer, int offset, int count, bool expectingData)
    {
        if (expectingData && _pollFd >= 0)
        {
            var deadline = Stopwatch.GetTimestamp() + _budgetTicks;
            do
            {
                var read = Poll(buffer, offset, count);
                if (read >= 0)
                    return read;
                Thread.Yield(); // let a runnable thread on this CPU go first: two cores are shared by three processes
            }
            while (Stopwatch.GetTimestamp() < deadline);
        }
        return _blocking.Read(buffer, offset, count);
    }

    private unsafe int Poll(byte[] buffer, int offset, int count)
    {
        fixed (byte* start = &buffer[offset])
        {
            var read = read_nonblocking(_pollFd, start, count);
            if (read >= 0)
                return (int)read;
            var errno = Marshal.GetLastPInvokeError();
            if (errno == EAGAIN)
                return -1;
            // Anything else: stop polling and let the blocking read report it.
            DisposePollFd();
            return -1;
        }
    }

    public void Dispose() => DisposePollFd();

    private void DisposePollFd()
    {
        var fd = Interlocked.Exchange(ref _pollFd, -1);
        if (fd >= 0)
            close(fd);
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static unsafe partial nint read_nonblocking(int fd, byte* buffer, nint count);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int close(int fd);
}
