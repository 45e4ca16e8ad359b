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
/// </summary>
internal static class InlineSocketCompletions
{
    private const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>Sets the switch unless the user set it (either way); true when it was set here.</summary>
    public static bool Enable()
    {
        if (Environment.GetEnvironmentVariable(Variable) is not null)
            return false;
        Environment.SetEnvironmentVariable(Variable, "1");
        return true;
    }

    /// <summary>
    /// The pool (<c>--pool</c>, <c>--upstream</c>): one socket event thread, as PgBouncer has one, unless the user set the count.
    /// With inline completions .NET runs one per processor; each sleeps in epoll_wait between the few events it gets, and the
    /// wake-ups were the largest part of the pool's CPU: at 64 pgbench clients select-only, 37-43 µs per transaction with two,
    /// 28-29 with one, in one run (bench/README.md, "Pool"). Its ceiling is one core of socket work, as PgBouncer's;
    /// <c>DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT=N</c> raises it. True when it was set here.
    /// </summary>
    public static bool UseOneEventThread()
    {
        if (Environment.GetEnvironmentVariable(ThreadCountVariable) is not null)
            return false;
        Environment.SetEnvironmentVariable(ThreadCountVariable, "1");
        return true;
    }

    private const string ThreadCountVariable = "DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT";

    /// <summary>The server's sockets have read them: child processes started from now on do not see the switches set here.</summary>
    public static void HideFromChildren(bool inline, bool threadCount)
    {
        if (inline)
            Environment.SetEnvironmentVariable(Variable, null);
        if (threadCount)
            Environment.SetEnvironmentVariable(ThreadCountVariable, null);
    }
}
