using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace ZeroPg.Platform.Linux;

/// <summary>
/// ZeroPg's own epoll for the pool's backend sockets (<see cref="EpollSocketStream"/>), on one thread of its own: each socket is
/// registered edge-triggered for reads, and for writes only while a write waits for room. .NET's sockets try every receive before
/// they wait (an EAGAIN <c>recvfrom</c> per reply) and wake one of their event threads per reply; here a reply is read only
/// after its edge, and one <c>epoll_wait</c> reports the replies of several backends at once (as PgBouncer's libevent loop does).
/// The waiters go on on this thread (<see cref="EdgeSignal"/>): forwarding a reply, returning the backend, lending it to the
/// next client all run here, to their next wait. Created once per process, on first use; the thread lives as long as it.
/// Owns the registrations (<see cref="_sockets"/>); a stream owns its socket.
/// </summary>
internal sealed unsafe class EpollSockets
{
    private const int MaxEvents = 256;

    private static readonly Lazy<EpollSockets> Shared = new(() => new EpollSockets());

    private readonly int _epoll;
    private readonly ConcurrentDictionary<long, EpollSocketStream> _sockets = new();
    private long _nextId;

    public static EpollSockets Instance => Shared.Value;

    private EpollSockets()
    {
        _epoll = LinuxLibc.EpollCreate1(LinuxLibc.EPOLL_CLOEXEC);
        if (_epoll < 0)
            throw new IOException($"epoll_create1 failed: errno {Marshal.GetLastPInvokeError()}");
        new Thread(Run) { IsBackground = true, Name = "zeropg pool epoll" }.Start();
    }

    /// <summary>Watches the socket's reads (and, with <paramref name="writes"/>, its room to write) from now on; returns its id.</summary>
    public long Add(int fd, EpollSocketStream stream)
    {
        var id = Interlocked.Increment(ref _nextId);
        _sockets[id] = stream;
        Control(LinuxLibc.EPOLL_CTL_ADD, fd, id, writes: false);
        return id;
    }

    /// <summary>Adds or drops the socket's room-to-write edges (watched only while a write waits: each read of the peer would be one).</summary>
    public void WatchWrites(int fd, long id, bool writes) => Control(LinuxLibc.EPOLL_CTL_MOD, fd, id, writes);

    /// <summary>Stops watching the socket (before it is closed: a closed descriptor's number may be reused).</summary>
    public void Remove(int fd, long id)
    {
        _sockets.TryRemove(id, out _);
        LinuxLibc.EpollCtl(_epoll, LinuxLibc.EPOLL_CTL_DEL, fd, null); // an error here means it is gone already
    }

    private void Control(int operation, int fd, long id, bool writes)
    {
        var epollEvent = stackalloc byte[16];
        *(uint*)epollEvent = LinuxLibc.EPOLLIN | LinuxLibc.EPOLLRDHUP | LinuxLibc.EPOLLET | (writes ? LinuxLibc.EPOLLOUT : 0);
        *(long*)(epollEvent + LinuxLibc.EpollDataOffset) = id;
        if (LinuxLibc.EpollCtl(_epoll, operation, fd, epollEvent) != 0)
            throw new IOException($"epoll_ctl failed: errno {Marshal.GetLastPInvokeError()}");
    }

    private void Run()
    {
        var size = LinuxLibc.EpollEventSize;
        var events = new byte[MaxEvents * size];
        fixed (byte* buffer = events)
        {
            while (true)
            {
                var count = LinuxLibc.EpollWait(_epoll, buffer, MaxEvents, -1);
                if (count < 0)
                {
                    if (Marshal.GetLastPInvokeError() == LinuxLibc.EINTR)
                        continue;
                    throw new IOException($"epoll_wait failed: errno {Marshal.GetLastPInvokeError()}");
                }
                for (var i = 0; i < count; i++)
                {
                    var epollEvent = buffer + i * size;
                    if (!_sockets.TryGetValue(*(long*)(epollEvent + LinuxLibc.EpollDataOffset), out var stream))
                        continue;
                    try
                    {
                        stream.OnEvents(*(uint*)epollEvent);
                    }
                    catch (Exception)
                    {
                        // A waiter's continuation keeps its own exceptions (async methods); nothing else may end the thread that
                        // serves every backend.
                    }
                }
            }
        }
    }
}
