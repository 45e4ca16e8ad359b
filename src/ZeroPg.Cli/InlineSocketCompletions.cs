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

    /// <summary>The server's sockets have read it: child processes started from now on do not see it.</summary>
    public static void HideFromChildren() => Environment.SetEnvironmentVariable(Variable, null);
}
