using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace ZeroPg.Engine.Pool;

/// <summary>
/// The shared engine host (<see cref="EngineHostMode.Shared"/>, the default): one node process (engine-host/engine-pool.mjs) per
/// server process and node/engine-host pair, running each engine as a worker thread that shares one compiled PGlite module
/// (an idle engine ~90-110 MB instead of ~430 MB for a process of its own: bench/engines/FINDINGS.md). Commands go to it as
/// JSON lines on its stdin, its events (a worker started, wrote to stderr, exited) come back on its stdout. It lives as long
/// as this process (it exits when its stdin closes); if it dies, every engine in it ends and the next start makes a new one.
/// </summary>
internal sealed partial class SharedEngineHost
{
    public const string ScriptName = "engine-pool.mjs";

    private static readonly Lock HostsGate = new();
    private static readonly Dictionary<string, SharedEngineHost> Hosts = new(StringComparer.Ordinal);

    private readonly Process _process;
    private readonly ILogger _logger;
    private readonly Lock _writeGate = new();
    private readonly ConcurrentDictionary<long, SharedHostWorker> _workers = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _nextId;
    private volatile bool _gone;
    private Timer? _memoryTimer;

    /// <summary>How often the engines' heap sizes are asked for (for /metrics: a heap only grows, and slowly).</summary>
    private static readonly TimeSpan MemoryInterval = TimeSpan.FromSeconds(5);

    private SharedEngineHost(Process process, ILogger logger)
    {
        _process = process;
        _logger = logger;
        ProcessId = process.Id;
    }

    public int ProcessId { get; }

    /// <summary>The engines running in it now.</summary>
    public int WorkerCount => _workers.Count;

    /// <summary>The shared host for this node and engine-host folder, started on first use (again after it died).</summary>
    public static SharedEngineHost For(string nodePath, string hostScriptPath, ILogger logger)
    {
        var key = nodePath + "\0" + hostScriptPath;
        lock (HostsGate)
        {
            if (Hosts.TryGetValue(key, out var host) && !host._gone)
                return host;
            host = Start(nodePath, hostScriptPath, logger);
            Hosts[key] = host;
            return host;
        }
    }

    /// <summary>The shared hosts of this process that are running (for /metrics).</summary>
    public static IReadOnlyList<SharedEngineHost> Running
    {
        get
        {
            lock (HostsGate)
                return [.. Hosts.Values.Where(h => !h._gone)];
        }
    }

    private static SharedEngineHost Start(string nodePath, string hostScriptPath, ILogger logger)
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
        // glibc's malloc arenas per thread keep memory a stopped worker gave back; two arenas lowered the host's floor after
        // workers stopped by 10-25% (bench/engines/FINDINGS.md). An explicit setting wins.
        if (Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is null)
            startInfo.Environment["MALLOC_ARENA_MAX"] = "2";
        var process = Process.Start(startInfo) ?? throw new EngineFailedException($"could not start {nodePath} {ScriptName}");
        var host = new SharedEngineHost(process, logger);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
                Log.HostStderr(logger, e.Data);
        };
        process.BeginErrorReadLine();
        new Thread(host.ReadEvents) { IsBackground = true, Name = $"zeropg-engine-pool-{process.Id}" }.Start();
        host._memoryTimer = new Timer(_ => host.AskMemory(), null, MemoryInterval, MemoryInterval);
        Log.Started(logger, process.Id);
        return host;
    }

    /// <summary>Starts an engine with these start options (host.mjs's) and environment additions; returns once it runs.</summary>
    public async Task<SharedHostWorker> StartWorkerAsync(object startOptions, IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken)
    {
        await _ready.Task.WaitAsync(cancellationToken);
        var id = Interlocked.Increment(ref _nextId);
        var fifos = EngineFifos.Create();
        var worker = new SharedHostWorker(this, id, fifos);
        _workers[id] = worker;
        try
        {
            Send(new { op = "start", id, options = startOptions, requests = fifos.RequestsPath, replies = fifos.RepliesPath, env = environment });
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

    private void AskMemory()
    {
        if (_workers.IsEmpty || _gone)
            return;
        try
        {
            Send(new { op = "memory" });
        }
        catch (EngineFailedException)
        {
            // Gone: the reader reports it.
        }
    }

    /// <summary>The resident memory of the shared host process (all its engines), or null.</summary>
    public long? ResidentBytes => Hosting.ProcessMemory.ResidentBytes(ProcessId);

    internal void Terminate(long id) => Send(new { op = "terminate", id });

    internal void Forget(long id) => _workers.TryRemove(id, out _);

    private void Send(object command)
    {
        var line = JsonSerializer.Serialize(command);
        lock (_writeGate)
        {
            if (_gone)
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
        _ready.TrySetException(new EngineFailedException($"the shared engine host pid {ProcessId} exited before it was ready"));
        foreach (var worker in _workers.Values)
            worker.OnExit(null, null);
        Log.Exited(_logger, ProcessId);
        _process.WaitForExit(2000);
        _process.Dispose();
    }

    private void Dispatch(string line)
    {
        using var document = JsonDocument.Parse(line);
        var root = document.RootElement;
        var kind = root.GetProperty("event").GetString();
        if (kind == "ready")
        {
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
                break;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "shared engine host started: pid {Pid}")]
        public static partial void Started(ILogger logger, int pid);

        [LoggerMessage(Level = LogLevel.Warning, Message = "shared engine host pid {Pid} exited; its engines restart in a new one")]
        public static partial void Exited(ILogger logger, int pid);

        [LoggerMessage(Level = LogLevel.Debug, Message = "shared engine host: {Line}")]
        public static partial void HostStderr(ILogger logger, string line);
    }
}
