namespace ZeroPg.Engine;

/// <summary>
/// Where one engine runs and how its frames reach it: a node process of its own (<see cref="ChildProcessChannel"/>: stdin and
/// stdout) or a worker of the shared engine host (<see cref="Pool.SharedHostWorker"/>: two FIFOs). <see cref="EngineProcess"/>
/// speaks the same frames over either; only starting, stopping and what a death looks like differ.
/// </summary>
internal interface IEngineChannel : IDisposable
{
    /// <summary>The engine's requests (frames written synchronously).</summary>
    Stream Requests { get; }

    /// <summary>The engine's replies; ends when the engine is gone.</summary>
    Stream Replies { get; }

    /// <summary>The process the engine runs in (shared by all engines of the shared host).</summary>
    int ProcessId { get; }

    bool HasExited { get; }

    /// <summary>
    /// The memory the engine holds, for /metrics: its process's resident memory, or (a worker of the shared host, whose
    /// process all its engines share) its WebAssembly heap as last reported; null when unknown.
    /// </summary>
    long? MemoryBytes { get; }

    /// <summary>Calls <paramref name="onLine"/> with each line the engine writes to stderr (once, before replies are read).</summary>
    void BeginStderr(Action<string> onLine);

    /// <summary>The engine's end, for an error message: "engine host pid 12 (exit code 1)".</summary>
    string Describe();

    /// <summary>Closes the requests: the engine finishes its queued work, closes PGlite cleanly and exits.</summary>
    void CloseRequests();

    /// <summary>Waits until the engine has exited; false when it has not within <paramref name="timeout"/>.</summary>
    Task<bool> WaitForExitAsync(TimeSpan timeout);

    /// <summary>Ends the engine at once, even inside a query (a runaway query, a cancel the engine ignored).</summary>
    void Kill();
}
