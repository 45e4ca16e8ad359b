namespace ZeroPg.Engine.Pool;

/// <summary>
/// One engine of the shared engine host: a worker thread of its node process, its frames over two FIFOs. Its death (PGlite's
/// exit, an uncaught error, <see cref="Kill"/>) ends only this engine: the host closes its end of the replies, the reader sees
/// their end, and the supervisor restarts this database's engine as it would a process.
/// </summary>
internal sealed class SharedHostWorker(SharedEngineHost host, long id, EngineFifos fifos) : IEngineChannel
{
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<int?> _exit = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<string> _earlyStderr = [];
    private Action<string>? _stderr;

    public long Id => id;

    public Stream Requests => fifos.Requests;

    public Stream Replies => fifos.Replies;

    public int ProcessId => host.ProcessId;

    /// <summary>The shared host it runs in.</summary>
    public SharedEngineHost Host => host;

    public bool HasExited => _exit.Task.IsCompleted;

    /// <summary>Its WebAssembly heap, as the host last reported it (<see cref="SharedEngineHost"/> asks every few seconds).</summary>
    public long? MemoryBytes { get; internal set; }

    /// <summary>Completes when the host has opened both FIFOs and started the worker; fails if it could not.</summary>
    public Task Started => _started.Task;

    internal EngineFifos Fifos => fifos;

    internal void OnStarted() => _started.TrySetResult();

    /// <summary>The worker ended with <paramref name="code"/> (null: the whole shared host is gone).</summary>
    internal void OnExit(int? code, string? error)
    {
        if (error is not null)
            OnStderr(error);
        _started.TrySetException(new EngineFailedException($"the shared engine host could not start engine {id}: {error ?? "it exited"}"));
        _exit.TrySetResult(code);
    }

    internal void OnStderr(string line)
    {
        Action<string>? sink;
        lock (_earlyStderr)
        {
            sink = _stderr;
            if (sink is null)
                _earlyStderr.Add(line);
        }
        sink?.Invoke(line);
    }

    public void BeginStderr(Action<string> onLine)
    {
        string[] early;
        lock (_earlyStderr)
        {
            _stderr = onLine;
            early = [.. _earlyStderr];
            _earlyStderr.Clear();
        }
        foreach (var line in early)
            onLine(line);
    }

    public string Describe()
    {
        var state = !_exit.Task.IsCompleted ? "still running"
            : _exit.Task.Result is { } code ? $"exit code {code}"
            : "the shared host exited";
        return $"engine worker {id} of the shared engine host pid {ProcessId} ({state})";
    }

    public void CloseRequests() => fifos.Requests.Close();

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await _exit.Task.WaitAsync(timeout);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    public void Kill()
    {
        if (!HasExited)
            host.Terminate(id);
    }

    public void Dispose()
    {
        fifos.Requests.Dispose();
        fifos.Replies.Dispose();
        host.Forget(id);
    }
}
