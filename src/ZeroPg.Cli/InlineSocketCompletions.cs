namespace ZeroPg.Cli;

/// <summary>
/// `zeropg serve` runs the continuations of client sockets' reads on the socket engine's threads, where .NET would hand each to
/// a thread-pool worker: with Kestrel's inline scheduling (<see cref="ZeroPgOptions.InlineSocketScheduling"/>) a client's
/// message is then read and its statement sent to the engine on the thread epoll woke, not one thread wake-up later. With the
/// reply's continuation on the engine reader (<see cref="ZeroPg.Engine.EngineCall"/>) that halved the server's CPU per `SELECT`: the
/// pool's wake-ups and its spinning after each item were most of it (bench/findings/round-trips.md, "Thread hops in the server"). .NET reads the switch from the environment once, when the process's first socket waits; it is process-wide,
/// so it is set only in the CLI's own process, whose socket code never blocks a thread (the library's hosts, such as a test
/// process with its own clients, keep .NET's default), and taken out again once the server listens so that a --run command
/// does not inherit it.
/// A pooled server (<c>--pool</c>, <c>--upstream</c>) on Linux also gets one socket event thread instead of one per processor: its
/// backends' replies have an epoll thread of their own (<c>Platform/Linux/EpollSockets</c>), so the clients' thread and the backends'
/// make the two that run at once; a third woke per reply and cost more context switches than it saved (bench/findings/pool.md).
/// </summary>
internal static class InlineSocketCompletions
{
    private const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
    private const string ThreadCount = "DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT";
    private static bool _threadCountSet;

    /// <summary>Sets the switch (and, for a pooled server on Linux, one event thread) unless the user set it; true when it was set here.</summary>
    public static bool Enable(bool pooled)
    {
        if (Environment.GetEnvironmentVariable(Variable) is not null)
            return false;
        Environment.SetEnvironmentVariable(Variable, "1");
        if (pooled && OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable(ThreadCount) is null)
        {
            Environment.SetEnvironmentVariable(ThreadCount, "1");
            _threadCountSet = true;
        }
        return true;
    }

    /// <summary>The server's sockets have read them: child processes started from now on do not see them.</summary>
    public static void HideFromChildren()
    {
        Environment.SetEnvironmentVariable(Variable, null);
        if (_threadCountSet)
            Environment.SetEnvironmentVariable(ThreadCount, null);
    }
}
