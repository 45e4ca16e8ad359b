using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Runtime.InteropServices;

namespace ZeroPg.Platform.Linux;

/// <summary>
/// ZeroPg's own epoll loop for the pool (PgBouncer's shape): the pooled clients' sockets (<see cref="EpollConnection"/>) and the
/// backends' (<see cref="EpollSocketStream"/>) on one thread of its own. Each socket is registered edge-triggered for reads, and
/// for writes only while a write waits for room. .NET's sockets try every receive before they wait (an EAGAIN <c>recvfrom</c>
/// per wait) and wake one of their event threads per event; here a socket is read only after its edge, and one
/// <c>epoll_wait</c> reports the events of many clients and backends at once. What they wake goes on on this thread: a client's
/// message framed, a backend lent and written to, its reply forwarded, the backend returned and lent to the next waiter, all to
/// their next wait. Created once per process, on first use; the thread lives as long as it. Owns the registrations
/// (<see cref="_sockets"/>); a watcher owns its socket.
/// </summary>
internal sealed unsafe class EpollSockets
{
    private const int MaxEvents = 256;

    private static readonly Lazy<EpollSockets> Shared = new(() => new EpollSockets());

    private readonly int _epoll;
    private readonly ConcurrentDictionary<long, IEpollWatcher> _sockets = new();
    private long _nextId;
    private readonly int _threadId;
    private List<(Action<object?> Action, object? State)> _afterEvents = []; // the loop thread's own
    private List<(Action<object?> Action, object? State)> _running = [];

    /// <summary>
    /// Runs <paramref name="action"/> once the loop has handled every event of its current batch when called on the loop's thread
    /// (a client's reply is sent then: see <see cref="AfterEvents"/>), at once elsewhere.
    /// </summary>
    public void RunAfterEvents(Action<object?> action, object? state)
    {
        if (Environment.CurrentManagedThreadId == _threadId)
            _afterEvents.Add((action, state));
        else
            action(state);
    }

    /// <summary>
    /// A scheduler for the clients' output pipes: on the loop's thread their sends wait for the end of the batch of events, so that
    /// the peers they wake (pgbench's threads, say) do not preempt the loop in the middle of a batch, and a peer woken once reads
    /// every reply of the batch.
    /// </summary>
    public PipeScheduler AfterEvents { get; }

    public static EpollSockets Instance => Shared.Value;

    private EpollSockets()
    {
        _epoll = LinuxLibc.EpollCreate1(LinuxLibc.EPOLL_CLOEXEC);
        if (_epoll < 0)
            throw new IOException($"epoll_create1 failed: errno {Marshal.GetLastPInvokeError()}");
        AfterEvents = new AfterEventsScheduler(this);
        var thread = new Thread(Run) { IsBackground = true, Name = "zeropg pool epoll" };
        thread.Start();
        _threadId = thread.ManagedThreadId;
    }

    /// <summary>Watches the socket's reads (and, with <paramref name="writes"/>, its room to write) from now on; returns its id.</summary>
    public long Add(int fd, IEpollWatcher watcher)
    {
        var id = Interlocked.Increment(ref _nextId);
        _sockets[id] = watcher;
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
                    if (!_sockets.TryGetValue(*(long*)(epollEvent + LinuxLibc.EpollDataOffset), out var watcher))
                        continue;
                    try
                    {
                        watcher.OnEvents(*(uint*)epollEvent);
                    }
                    catch (Exception)
                    {
                        // A waiter's continuation keeps its own exceptions (async methods); nothing else may end the thread that
                        // serves every backend.
                    }
                }
                while (_afterEvents.Count > 0)
                {
                    (_running, _afterEvents) = (_afterEvents, _running);
                    foreach (var (action, state) in _running)
                    {
                        try
                        {
                            action(state);
                        }
                        catch (Exception)
                        {
                            // As above: the continuation of a pipe's reader keeps its own exceptions.
                        }
                    }
                    _running.Clear();
                }
            }
        }
    }
}

internal sealed class AfterEventsScheduler(EpollSockets loop) : PipeScheduler
{
    public override void Schedule(Action<object?> action, object? state) => loop.RunAfterEvents(action, state);
}

/// <summary>A socket on <see cref="EpollSockets"/>: told its events on the loop's thread.</summary>
internal interface IEpollWatcher
{
    void OnEvents(uint events);
}
