namespace ZeroPg.Cli;

/// <summary>
/// `zeropg serve --split-cores`: the engine hosts on the last CPU this process may use, the server's threads on the others.
/// On a machine with two cores both poll for each other's answers (the engine host for requests, the server for replies,
/// yielding the core between polls); taking turns on both cores, they and the clients displace each other, and each hop lands
/// on a core whose caches hold the other's work. On cores of their own they answer more for less CPU (bench/findings/round-trips.md,
/// "The cores"). Measured only with two cores, so `auto` splits only there; `--engine
/// postgres` never (its backends are the server's children and would share the server's core).
/// </summary>
internal static class CoreSplit
{
    /// <summary>The server's CPUs and the engine hosts' for <paramref name="mode"/> (auto, on, off) on <paramref name="allowed"/>; null: no split.</summary>
    public static (int[] Server, int[] Engine)? Plan(string mode, IReadOnlyList<int> allowed, bool pgliteEngine)
    {
        if (mode == "off" || !pgliteEngine || allowed.Count < 2 || (mode == "auto" && allowed.Count != 2))
            return null;
        return ([.. allowed.Take(allowed.Count - 1)], [allowed[^1]]);
    }
}
