using System.Diagnostics;
using System.Runtime.InteropServices;
using ZeroPg.Platform.Linux;
using static ZeroPg.Platform.Linux.LinuxLibc;

namespace ZeroPg.Engine;

/// <summary>
/// Reads the engine host's output pipe, polling it for a short while before blocking when a reply is
/// due. Waking a thread blocked in read(2) costs tens of microseconds on a virtual machine (the idle
/// CPU halts and must be woken), more than a small query takes in the engine; a poll through a second,
/// non-blocking descriptor of the same pipe sees the reply within a microsecond of its write.
/// When no reply is due the reader parks in poll(2) on the pipe and an eventfd, and a request written
/// to the engine wakes it (<see cref="Expect"/>): it then wakes while the engine works on the request,
/// and is polling when the reply comes, instead of being woken by the reply itself.
/// Without Linux's /proc and eventfd (or with a zero budget) it is a plain blocking read.
/// </summary>
internal sealed class PollingPipeReader : IDisposable
{
    private readonly Stream _blocking;
    private readonly long _budgetTicks;
    private int _pollFd = -1;
    private int _wakeFd = -1;
    private int _parked; // 1 while the reader waits in poll(2) with no reply due: a request must wake it
    private readonly PollContention _contention = new(); // a CPU-bound neighbour on the core turns the poll off for a while

    public PollingPipeReader(Stream pipe, TimeSpan budget)
    {
        _blocking = pipe;
        _budgetTicks = (long)(budget.TotalSeconds * Stopwatch.Frequency);
        if (_budgetTicks > 0)
        {
            _pollFd = PipeReopen.NonBlocking(pipe, FileAccess.Read);
            if (_pollFd >= 0)
                _wakeFd = EventFd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        }
    }

    /// <summary>
    /// Reads at least one byte (0 at end of stream). Polls first when <paramref name="expectingData"/> says a reply is due;
    /// otherwise waits for output or for <see cref="Expect"/>, then polls.
    /// </summary>
    public int Read(byte[] buffer, int offset, int count, Func<bool> expectingData)
    {
        if (_pollFd < 0)
            return _blocking.Read(buffer, offset, count);
        if (_wakeFd >= 0 && !expectingData())
        {
            Interlocked.Exchange(ref _parked, 1);
            if (!expectingData()) // a request written before the flag was seen is not missed
                Park();
            Interlocked.Exchange(ref _parked, 0);
            DrainWake();
        }
        else if (!expectingData())
        {
            return _blocking.Read(buffer, offset, count);
        }
        var last = Stopwatch.GetTimestamp();
        if (!_contention.Polling(last))
            return _blocking.Read(buffer, offset, count);
        var deadline = last + _budgetTicks;
        var longYield = false;
        do
        {
            var read = Poll(buffer, offset, count);
            if (read >= 0)
            {
                _contention.Waited(longYield, last);
                return read;
            }
            Thread.Yield(); // let a runnable thread on this CPU go first: two cores are shared by three processes
            var now = Stopwatch.GetTimestamp();
            longYield |= PollContention.IsLong(last, now);
            last = now;
        }
        while (last < deadline && _pollFd >= 0);
        _contention.Waited(longYield, last);
        return _blocking.Read(buffer, offset, count);
    }

    /// <summary>A request was written: a reply is due. Wakes the reader if it is parked (any thread; one system call only then).</summary>
    public unsafe void Expect()
    {
        if (Volatile.Read(ref _parked) == 0 || _wakeFd < 0)
            return;
        ulong one = 1;
        _ = LinuxLibc.Write(_wakeFd, &one, sizeof(ulong));
    }

    /// <summary>Waits until the pipe has output (or its end) or a request wakes the reader.</summary>
    private unsafe void Park()
    {
        var fds = stackalloc PollFd[2];
        fds[0] = new PollFd { Fd = _pollFd, Events = POLLIN };
        fds[1] = new PollFd { Fd = _wakeFd, Events = POLLIN };
        while (LinuxLibc.Poll(fds, 2, -1) < 0 && Marshal.GetLastPInvokeError() == EINTR)
        {
        }
    }

    private unsafe void DrainWake()
    {
        ulong count;
        _ = LinuxLibc.Read(_wakeFd, (byte*)&count, sizeof(ulong));
    }

    private unsafe int Poll(byte[] buffer, int offset, int count)
    {
        fixed (byte* start = &buffer[offset])
        {
            var read = LinuxLibc.Read(_pollFd, start, count);
            if (read >= 0)
                return (int)read;
            var errno = Marshal.GetLastPInvokeError();
            if (errno == EAGAIN)
                return -1;
            // Anything else: stop polling (and parking) and let the blocking read report it.
            var fd = Interlocked.Exchange(ref _pollFd, -1);
            if (fd >= 0)
                LinuxLibc.Close(fd);
            return -1;
        }
    }

    public void Dispose() => DisposeFds();

    private void DisposeFds()
    {
        var fd = Interlocked.Exchange(ref _pollFd, -1);
        if (fd >= 0)
            LinuxLibc.Close(fd);
        var wake = Interlocked.Exchange(ref _wakeFd, -1);
        if (wake >= 0)
            LinuxLibc.Close(wake);
    }

}
