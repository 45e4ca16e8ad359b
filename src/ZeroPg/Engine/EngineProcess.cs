using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace ZeroPg.Engine;

/// <summary>
/// One Node.js engine host process running one PGlite instance. Requests are written to its stdin
/// as frames; replies are read from its stdout and routed to the calls in the order they were sent.
/// The host exits when its stdin closes, so it cannot outlive this process.
/// </summary>
internal sealed partial class EngineProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Stream _stdin;
    private readonly Stream _stdout;
    private readonly PollingPipeReader _replies;
    private readonly EngineDoorbell? _doorbell;
    private readonly ConcurrentQueue<EngineCall> _calls = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly TaskCompletionSource<EngineStartupInfo> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Queue<string> _stderrTail = new();
    private readonly ILogger _logger;
    private string? _fatalMessage;
    private volatile bool _failed;
    private volatile bool _killedToCancel;
    private int _disposed;

    /// <summary>Where batches are counted; set when a spare engine is handed to a server.</summary>
    internal Hosting.ZeroPgMetrics? Metrics { get; set; }

    private EngineProcess(Process process, EngineDoorbell? doorbell, TimeSpan replyPollWindow, Hosting.ZeroPgMetrics? metrics, ILogger logger)
    {
        _doorbell = doorbell;
        _process = process;
        Metrics = metrics;
        _logger = logger;
        _stdin = process.StandardInput.BaseStream;
        _stdout = process.StandardOutput.BaseStream;
        _replies = new PollingPipeReader(_stdout, replyPollWindow);
    }

    public int ProcessId => _process.Id;

    /// <summary>Completes when the host's output has ended: it exited or died.</summary>
    public Task Exited => _exited.Task;

    public bool IsFailed => _failed;

    /// <summary>A request is running or queued in the host.</summary>
    public bool HasCallsInFlight => !_calls.IsEmpty;

    public int CallsInFlight => _calls.Count;

    /// <summary>Kills the host to stop a running query: PGlite cannot be interrupted from JS.</summary>
    public Task KillToCancelAsync()
    {
        _killedToCancel = true;
        _fatalMessage ??= "killed to cancel a running query";
        return KillAsync();
    }

    public static async Task<(EngineProcess Engine, EngineStartupInfo Info)> StartAsync(EngineLaunchOptions options, ILogger logger, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(options.NodePath)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(options.HostScriptPath)!,
        };
        startInfo.ArgumentList.Add(options.HostScriptPath);
        var doorbell = options.PollWindow > TimeSpan.Zero ? TryCreateDoorbell(logger) : null;
        startInfo.ArgumentList.Add(JsonSerializer.Serialize(new
        {
            dataDir = options.DataDirectory,
            extensions = options.Extensions,
            loadDataDir = options.LoadDataDir,
            startParams = options.StartParams.Count > 0 ? options.StartParams : null,
            snapshotOut = options.SnapshotOut,
            durability = options.Durability == EngineDurability.Fsync ? "fsync" : null,
            pollMicroseconds = doorbell is null ? 0 : (int)options.PollWindow.TotalMicroseconds,
            doorbell = doorbell?.Path,
        }));
        var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"could not start {options.NodePath}");
        var engine = new EngineProcess(process, doorbell, options.ReplyPollWindow, options.Metrics, logger);
        engine.Begin();
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            var ready = engine._ready.Task;
            var finished = await Task.WhenAny(ready, engine._exited.Task).WaitAsync(timeoutSource.Token);
            if (finished != ready)
                throw new EngineFailedException($"the engine host exited during start: {engine.Diagnostics()}");
            doorbell?.Unlink();
            return (engine, await ready);
        }
        catch (Exception error)
        {
            await engine.KillAsync();
            doorbell?.Dispose();
            if (error is OperationCanceledException && !cancellationToken.IsCancellationRequested)
                throw new EngineFailedException($"the engine did not start within {timeout.TotalSeconds:0} s: {engine.Diagnostics()}");
            throw;
        }
    }

    private static EngineDoorbell? TryCreateDoorbell(ILogger logger)
    {
        try
        {
            return EngineDoorbell.Create();
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            Log.NoDoorbell(logger, error.Message); // the host then blocks at once instead of polling
            return null;
        }
    }

    private void Begin()
    {
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            lock (_stderrTail)
            {
                _stderrTail.Enqueue(e.Data);
                if (_stderrTail.Count > 20)
                    _stderrTail.Dequeue();
            }
            Log.EngineStderr(_logger, e.Data);
        };
        _process.BeginErrorReadLine();
        // A dedicated thread blocked in read() wakes as soon as a reply arrives: on two cores the
        // thread-pool hops of async pipe reads cost more than the engine's own work for a small query.
        new Thread(ReadLoop) { IsBackground = true, Name = $"zeropg-engine-{_process.Id}" }.Start();
    }

    /// <summary>Queues <paramref name="call"/> and writes its frame (header included, already filled in).</summary>
    public async ValueTask SubmitAsync(EngineCall call, ReadOnlyMemory<byte> frame)
    {
        await _writeLock.WaitAsync();
        try
        {
            ThrowIfFailed();
            _calls.Enqueue(call);
            // A synchronous write: a batch is small and the host drains its stdin promptly.
            _doorbell?.Announce(frame.Length);
            _stdin.Write(frame.Span);
            if (frame.Span[0] == (byte)HostRequestKind.Batch)
                Metrics?.RecordBatch(frame.Length - HostFrame.HeaderLength);
        }
        catch (IOException error)
        {
            throw new EngineFailedException("the engine host's input is closed: " + Diagnostics(), error);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Writes a frame that has no reply of its own (a 'P' part of a larger batch).</summary>
    public async ValueTask SendPartAsync(ReadOnlyMemory<byte> frame)
    {
        await _writeLock.WaitAsync();
        try
        {
            ThrowIfFailed();
            _doorbell?.Announce(frame.Length);
            _stdin.Write(frame.Span);
            Metrics?.AddBatchBytes(frame.Length - HostFrame.HeaderLength); // a part of the next batch
        }
        catch (IOException error)
        {
            throw new EngineFailedException("the engine host's input is closed: " + Diagnostics(), error);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async Task<JsonElement> ControlAsync(object command)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(command);
        var frame = new byte[HostFrame.HeaderLength + json.Length];
        HostFrame.WriteHeader(frame, HostRequestKind.Control, json.Length);
        json.CopyTo(frame, HostFrame.HeaderLength);
        var call = new ControlCall();
        await SubmitAsync(call, frame);
        await call.Completion;
        return call.Answer;
    }

    private void ThrowIfFailed()
    {
        if (_failed)
            throw new EngineFailedException(Diagnostics());
    }

    private sealed class ControlCall : EngineCall
    {
        public JsonElement Answer { get; private set; }

        public override ValueTask OnReplyEndAsync(ReadOnlySequence<byte> payload)
        {
            using var document = JsonDocument.Parse(payload);
            Answer = document.RootElement.Clone();
            return ValueTask.CompletedTask;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Debug, Message = "engine: {Line}")]
        public static partial void EngineStderr(ILogger logger, string line);

        [LoggerMessage(Level = LogLevel.Information, Message = "the engine host will not poll for requests: no shared-memory doorbell ({Message})")]
        public static partial void NoDoorbell(ILogger logger, string message);

        [LoggerMessage(Level = LogLevel.Error, Message = "engine reported a fatal error: {Message}")]
        public static partial void EngineFatal(ILogger logger, string message);
    }
}
