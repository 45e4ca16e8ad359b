using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace ZeroPg.Engine.Pool;

/// <summary>
/// One shared engine host process (engine-host/engine-pool.mjs, <see cref="EngineHostMode.Shared"/>): each engine a worker
/// thread sharing one compiled PGlite module (an idle engine ~90-110 MB instead of ~430 MB for a process of its own:
/// bench/engines/FINDINGS.md). Commands go to it as JSON lines on its stdin, its events (a worker started, wrote to stderr,
/// exited) come back on its stdout. <see cref="SharedEngineHosts"/> decides which host a new engine goes to; a host it retired
/// (<see cref="Retire"/>) takes no new engine and exits when its last one ends. If it dies, every engine in it ends and the
/// next start makes a new one.
/// </summary>
internal sealed partial class SharedEngineHost
{
    public const string ScriptName = "engine-pool.mjs";

    private readonly Process _process;
    private readonly ILogger _logger;
    private readonly Lock _writeGate = new();
    private readonly ConcurrentDictionary<long, SharedHostWorker> _workers = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Queue<string> _stderrTail = new();
    private volatile bool _gone;
    private volatile bool _retired;
    private volatile bool _quiet; // retired as this process exits: nothing more to log
    private bool _inputClosed; // guarded by _writeGate
    private Timer? _memoryTimer;

    /// <summary>How often the engines' heap sizes are asked for (for /metrics: a heap only grows, and slowly).</summary>
    private static readonly TimeSpan MemoryInterval = TimeSpan.FromSeconds(5);

    private SharedEngineHost(Process process, ILogger logger, Action<SharedEngineHost> onEmpty, Action<SharedEngineHost> onGone)
    {
        _process = process;
        _logger = logger;
        ProcessId = process.Id;
        OnEmpty = onEmpty;
        OnGone = onGone;
    }

    public int ProcessId { get; }

    /// <summary>The engines running in it now (and those starting).</summary>
    public int WorkerCount => _workers.Count;

    /// <summary>It has run at least one engine (a host is never retired before its first).</summary>
    public bool HasRunEngine { get; private set; }

    /// <summary>Retired: it takes no new engine and exits once its last engine has ended.</summary>
    public bool IsRetired => _retired;

    public bool IsGone => _gone;

    /// <summary>Completes once its process is gone (its output ended).</summary>
    public Task Exited => _exited.Task;

    /// <summary>Called (outside any lock of this host) when its last engine has ended.</summary>
    private Action<SharedEngineHost> OnEmpty { get; }

    /// <summary>Called once its process is gone.</summary>
    private Action<SharedEngineHost> OnGone { get; }

    public static SharedEngineHost Start(string nodePath, string hostScriptPath, ILogger logger, Action<SharedEngineHost> onEmpty, Action<SharedEngineHost> onGone)
    {
        var directory = Path.GetDirectoryName(hostScriptPath)!;
        var startInfo = new ProcessStartInfo(nodePath)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        startInfo.ArgumentList.Add("--expose-gc"); // an idle engine collects the garbage of its start (host.mjs, idleCollector)
        startInfo.ArgumentList.Add(Path.Combine(directory, ScriptName));
        HostMallocSettings.Apply(startInfo);
        var process = Process.Start(startInfo) ?? throw new EngineFailedException($"could not start {nodePath} {ScriptName}");
        var host = new SharedEngineHost(process, logger, onEmpty, onGone);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            lock (host._stderrTail)
            {
                host._stderrTail.Enqueue(e.Data);
                if (host._stderrTail.Count > 5)
                    host._stderrTail.Dequeue();
            }
            Log.HostStderr(logger, e.Data);
        };
        process.BeginErrorReadLine();
        new Thread(host.ReadEvents) { IsBackground = true, Name = $"zeropg-engine-pool-{process.Id}" }.Start();
        host._memoryTimer = new Timer(_ => host.AskMemory(), null, MemoryInterval, MemoryInterval);
        Log.Started(logger, process.Id);
        return host;
    }

    /// <summary>Registers engine <paramref name="id"/> (its FIFOs made), so the host is not empty from now on; <see cref="StartWorkerAsync"/> starts it.</summary>
    public SharedHostWorker Reserve(long id)
    {
        var worker = new SharedHostWorker(this, id, EngineFifos.Create());
        _workers[id] = worker;
        HasRunEngine = true;
        return worker;
    }

    /// <summary>Starts reserved <paramref name="worker"/> with these start options (host.mjs's) and environment additions; returns once it runs.</summary>
    public async Task<SharedHostWorker> StartWorkerAsync(SharedHostWorker worker, EngineStartOptions startOptions, IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken)
    {
        var fifos = worker.Fifos;
        try
        {
            await _ready.Task.WaitAsync(cancellationToken);
            Send(new PoolStart(worker.Id, startOptions, fifos.RequestsPath, fifos.RepliesPath, environment));
            await worker.Started.WaitAsync(cancellationToken);
            return worker;
        }
        catch
        {
            try
            {
                worker.Kill();
            }
            catch (EngineFailedException)
            {
                // The host is gone, and the worker with it.
            }
            worker.Dispose();
            throw;
        }
        finally
        {
            fifos.Unlink();
        }
    }

    /// <summary>
    /// The memory it holds beyond its running engines' WebAssembly heaps: its resident memory less their heaps as last reported,
    /// what stays when they stop (V8's and glibc's leftovers, the compiled module). A heap counts its whole size where only
    /// the pages Postgres touched are resident, so with engines running this is low; with none it is exact. Null when unknown.
    /// </summary>
    public long? FloorBytes()
    {
        if (ResidentBytes is not { } resident)
            return null;
        var heaps = _workers.Values.Sum(w => w.MemoryBytes ?? 0);
        return Math.Max(0, resident - heaps);
    }

    /// <summary>No new engine goes here any more; it exits once its last engine has ended (at once when it has none).</summary>
    public void Retire(bool quiet = false)
    {
        _retired = true;
        _quiet = quiet;
        CloseIfDrained();
    }

    private void CloseIfDrained()
    {
        if (!_retired || !_workers.IsEmpty)
            return;
        lock (_writeGate)
        {
            if (_inputClosed)
                return;
            _inputClosed = true;
            try
            {
                _process.StandardInput.Close(); // engine-pool.mjs exits when its input closes and it runs no worker
            }
            catch (Exception error) when (error is IOException or ObjectDisposedException or InvalidOperationException)
            {
                // Already gone.
            }
        }
        if (!_quiet)
            Log.Drained(_logger, ProcessId);
    }

    private void AskMemory()
    {
        if (_workers.IsEmpty || _gone)
            return;
        try
        {
            Send(new PoolMemory());
        }
        catch (EngineFailedException)
        {
            // Gone or closing: the reader reports it.
        }
    }

    /// <summary>The resident memory of the shared host process (all its engines), or null.</summary>
    public long? ResidentBytes => _gone ? null : Hosting.ProcessMemory.ResidentBytes(ProcessId);

    internal void Terminate(long id) => Send(new PoolTerminate(id));

    internal void Forget(long id)
    {
        if (_workers.TryRemove(id, out _))
            AfterRemoval();
    }

    private void AfterRemoval()
    {
        if (!_workers.IsEmpty)
            return;
        if (_retired)
            CloseIfDrained();
        else
            OnEmpty(this);
    }

    private void Send(PoolCommand command)
    {
        var line = JsonSerializer.Serialize(command, HostJson.Default.PoolCommand);
        lock (_writeGate)
        {
            if (_gone || _inputClosed)
                throw new EngineFailedException($"the shared engine host pid {ProcessId} has exited");
            try
            {
                _process.StandardInput.WriteLine(line);
                _process.StandardInput.Flush();
            }
            catch (Exception error) when (error is IOException or ObjectDisposedException or InvalidOperationException)
            {
                throw new EngineFailedException($"the shared engine host pid {ProcessId} has exited", error);
            }
        }
    }

    // Its events, in order; when its output ends it is gone, and so is every engine it ran.
    private void ReadEvents()
    {
        try
        {
            while (_process.StandardOutput.ReadLine() is { } line)
                Dispatch(line);
        }
        catch (Exception error) when (error is IOException or ObjectDisposedException)
        {
            // Gone: handled below.
        }
        _gone = true;
        _memoryTimer?.Dispose();
        var failedToStart = !_ready.Task.IsCompleted && !_inputClosed; // not closed by us before it was ready (a server that stopped)
        var failure = $"the shared engine host pid {ProcessId} exited before it was ready{(failedToStart ? StderrTail() : "")}";
        if (failedToStart)
            Log.FailedToStart(_logger, failure);
        _ready.TrySetException(new EngineFailedException(failure));
        foreach (var worker in _workers.Values)
            worker.OnExit(null, null);
        if (_inputClosed && _workers.IsEmpty)
        {
            if (!_quiet)
                Log.Exited(_logger, ProcessId);
        }
        else if (!failedToStart) // that one is logged above, with what the host said
            Log.Died(_logger, ProcessId, _workers.Count);
        OnGone(this);
        _process.WaitForExit(2000);
        _process.Dispose();
        _exited.TrySetResult();
    }

    /// <summary>What a host that never became ready wrote last (a Node that cannot run here says why on stderr).</summary>
    private string StderrTail()
    {
        // Its stderr is read asynchronously: once the process has exited, the parameterless wait lets that reading finish.
        if (_process.WaitForExit(2000))
            _process.WaitForExit();
        lock (_stderrTail)
            return _stderrTail.Count == 0 ? "" : ": " + string.Join(" | ", _stderrTail);
    }

    private void Dispatch(string line)
    {
        using var document = JsonDocument.Parse(line);
        var root = document.RootElement;
        var kind = root.GetProperty("event").GetString();
        if (kind == "ready")
        {
            if (root.TryGetProperty("compileMs", out var compileMs) && root.TryGetProperty("compiledAhead", out var ahead))
                Log.ModuleCompiled(_logger, ProcessId, compileMs.GetInt32(), ahead.GetInt32());
            _ready.TrySetResult();
            return;
        }
        if (kind == "memory")
        {
            foreach (var engine in root.GetProperty("engines").EnumerateObject())
            {
                // 0: the engine has not started yet (its ready frame will say); never overwrite a figure with that.
                if (_workers.TryGetValue(long.Parse(engine.Name, System.Globalization.CultureInfo.InvariantCulture), out var sized) && engine.Value.GetDouble() > 0)
                    sized.MemoryBytes = (long)engine.Value.GetDouble();
            }
            return;
        }
        if (!_workers.TryGetValue(root.GetProperty("id").GetInt64(), out var worker))
            return;
        switch (kind)
        {
            case "started":
                worker.OnStarted();
                break;
            case "stderr":
                worker.OnStderr(root.GetProperty("line").GetString() ?? "");
                break;
            case "exit":
                _workers.TryRemove(worker.Id, out _);
                worker.OnExit(root.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.Number ? code.GetInt32() : null,
                    root.TryGetProperty("error", out var error) ? error.GetString() : null);
                AfterRemoval();
                break;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "shared engine host started: pid {Pid}")]
        public static partial void Started(ILogger logger, int pid);

        [LoggerMessage(Level = LogLevel.Warning, Message = "shared engine host pid {Pid} died with {Engines} engines; they restart in a new one")]
        public static partial void Died(ILogger logger, int pid, int engines);

        [LoggerMessage(Level = LogLevel.Information, Message = "shared engine host pid {Pid} exited")]
        public static partial void Exited(ILogger logger, int pid);

        [LoggerMessage(Level = LogLevel.Information, Message = "retired shared engine host pid {Pid} ran its last engine: closing it")]
        public static partial void Drained(ILogger logger, int pid);

        [LoggerMessage(Level = LogLevel.Warning, Message = "{Failure}")]
        public static partial void FailedToStart(ILogger logger, string failure);

        [LoggerMessage(Level = LogLevel.Debug, Message = "shared engine host pid {Pid} compiled pglite.wasm in {Milliseconds} ms, {Functions} functions ahead of their first call")]
        public static partial void ModuleCompiled(ILogger logger, int pid, int milliseconds, int functions);

        [LoggerMessage(Level = LogLevel.Debug, Message = "shared engine host: {Line}")]
        public static partial void HostStderr(ILogger logger, string line);
    }
}
