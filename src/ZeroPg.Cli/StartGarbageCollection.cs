namespace ZeroPg.Cli;

/// <summary>
/// One compacting, decommitting collection of the server's own heap a few seconds after its ready line. The start allocates
/// (configuration, Kestrel, the engine's start, logging) and then a sidecar or a test process's server often sits idle: the
/// GC never runs again, so the start's garbage and the memory the GC committed for it stay resident for the server's life.
/// GCCollectionMode.Aggressive compacts and gives every free region back to the system. It runs once, on a thread-pool
/// thread; a server already serving clients pauses for it once (a few milliseconds: the start leaves a heap of a few MB).
/// </summary>
internal static class StartGarbageCollection
{
    /// <summary>After the ready line: the first client's connections (a test fixture's) are usually past their own start by then.</summary>
    private static readonly TimeSpan Delay = TimeSpan.FromSeconds(5);

    public static void Schedule(CancellationToken stop)
        => _ = Task.Delay(Delay, stop).ContinueWith(
            _ => GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true),
            CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
}
