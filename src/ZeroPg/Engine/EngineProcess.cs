using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using ZeroPg.Protocol;

namespace ZeroPg.Engine;

/// <summary>
/// One PGlite engine: a worker of the shared engine host (<see cref="EngineHostMode.Shared"/>) or a Node.js engine host process
/// of its own; <see cref="IEngineChannel"/> is the difference. Requests are written to
/// it as frames; replies are read and routed to the calls in the order they were sent. The engine exits when its requests
/// close, so it cannot outlive this process.
/// </summary>
internal sealed partial class EngineProcess : IAsyncDisposable
{
    private readonly IEngineChannel _channel;
    private readonly Stream _stdin;
    private readonly NonBlockingPipe? _requestsNow; // a second, non-blocking descriptor of _stdin's pipe, for writes that must not wait
    private readonly PollingPipeReader _replies;
    private readonly Func<bool> _expectingReply;
    private readonly EngineDoorbell? _doorbell;
    private readonly ConcurrentQueue<EngineCall> _calls = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly TaskCompletionSource<EngineStartupInfo> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _exitedSignal = new(); // cancelled with _exited: watchers unregister, where a continuation could not
    private readonly Queue<string> _stderrTail = new();
    private readonly ILogger _logger;
    private string? _fatalMessage;
    private volatile bool _failed;
    private long _killedToCancel; // the batch the engine was killed to stop (0: none); written once
    private EngineCancelReason _killedReason;
    private TimeSpan _killedAfter;
    private readonly CancelBound _cancelBound;
    private int _disposed;
    private long _batchSequence; // written under _writeLock: counts Batch and OwnBatch frames as the host does
    private EngineCancelChannel? _cancelChannel;
    private static long _lastId;
    private int _readerThreadId; // the engine reader's managed thread id: continuations of sessions' calls run on it

    /// <summary>Where batches are counted; set when a spare engine is handed to a server.</summary>
    internal Hosting.ZeroPgMetrics? Metrics { get; set; }

    private EngineProcess(IEngineChannel channel, EngineDoorbell? doorbell, TimeSpan replyPollWindow, Hosting.ZeroPgMetrics? metrics, ILogger logger)
    {
        _doorbell = doorbell;
        _channel = channel;
        Metrics = metrics;
        _logger = logger;
        _stdin = channel.Requests;
        _requestsNow = NonBlockingPipe.Open(_stdin);
        _replies = new PollingPipeReader(channel.Replies, replyPollWindow);
        _expectingReply = () => !_calls.IsEmpty;
        _cancelBound = new CancelBound(RunningSequence, StatementsEndedOf, ClientWaitTicks, KillToCancel);
    }

    /// <summary>
    /// How long a cancelled batch may go on running before the engine is killed to stop it (zero: never);
    /// set by the supervisor (<see cref="ZeroPgOptions.CancelRestartAfter"/>).
    /// </summary>
    internal TimeSpan CancelRestartAfter { get; set; }

    /// <summary>
    /// Whether a batch past <see cref="CancelRestartAfter"/> is stopped by killing the engine (a data directory, or
    /// <see cref="ZeroPgOptions.CancelRestartsMemoryEngine"/>), or waited for and reported (memory://: a kill would lose every
    /// client's data); set by the supervisor.
    /// </summary>
    internal bool KillsToCancel { get; set; } = true;

    // The reader thread's waits for a client that does not read its reply (back-pressure, ReadLoop): Stopwatch ticks in all,
    // and the start of the wait under way (0: none). Written by the reader thread only; CancelBound reads them.
    private long _clientWaitTicks;
    private long _lastWaitedFor; // the last batch reported as waited for past its cancel (memory://)
    private long _clientWaitSince;

    private long ClientWaitTicks()
    {
        var since = Volatile.Read(ref _clientWaitSince);
        return Volatile.Read(ref _clientWaitTicks) + (since == 0 ? 0 : Stopwatch.GetTimestamp() - since);
    }

    /// <summary>The engine's process; with the shared engine host, that host's (all its engines share it).</summary>
    public int ProcessId => _channel.ProcessId;

    /// <summary>Names this engine in this process (1, 2, ...): unlike <see cref="ProcessId"/>, no two engines share it.</summary>
    public long Id { get; } = Interlocked.Increment(ref _lastId);

    /// <summary>The memory the engine holds (<see cref="IEngineChannel.MemoryBytes"/>).</summary>
    public long? MemoryBytes => _channel.MemoryBytes;

    /// <summary>The engine runs as a worker of the shared engine host (killing <see cref="ProcessId"/> would end them all).</summary>
    public bool IsSharedHostWorker => _channel is Pool.SharedHostWorker;

    /// <summary>The shared engine host it runs in, if it is a worker of one.</summary>
    internal Pool.SharedEngineHost? SharedHost => (_channel as Pool.SharedHostWorker)?.Host;

    /// <summary>Completes when the host's output has ended: it exited or died.</summary>
    public Task Exited => _exited.Task;

    /// <summary>Cancelled when the host's output has ended, as <see cref="Exited"/> completes; a registration on it can be undone.</summary>
    public CancellationToken ExitedToken => _exitedSignal.Token;

    public bool IsFailed => _failed;

    /// <summary>A request is running or queued in the host.</summary>
    public bool HasCallsInFlight => !_calls.IsEmpty;

    public int CallsInFlight => _calls.Count;

    /// <summary>The host cancels queries inside the engine (its cancel listener is connected).</summary>
    public bool CancelsInEngine => _cancelChannel is not null;

    /// <summary>
    /// Cancels batch <paramref name="sequence"/> inside the engine: Postgres raises 57014 (or the timeout's error)
    /// at its next interrupt check and the engine goes on; a batch that already ended is left alone.
    /// </summary>
    public bool CancelInEngine(long sequence, EngineCancelReason reason = EngineCancelReason.User)
    {
        var endedBefore = StatementsEndedOf(sequence);
        if (_cancelChannel is not { } channel || _failed || !channel.Cancel(sequence, reason))
            return false;
        _cancelBound.Arm(sequence, reason, CancelRestartAfter, endedBefore);
        return true;
    }

    /// <summary>The server killed it to stop a cancelled call (<see cref="KillToCancel"/>); that call's client stays.</summary>
    public bool WasKilledToCancel => Interlocked.Read(ref _killedToCancel) != 0;

    /// <summary>The head of the call of batch <paramref name="sequence"/>, and who sent it, for the log (see <see cref="BatchHead"/>).</summary>
    private string DescribeCall(long sequence)
    {
        foreach (var call in _calls)
        {
            if (call.Sequence != sequence)
                continue;
            string batch, owner;
            try
            {
                batch = BatchHead.Describe(call.Frame.Span);
            }
            catch (Exception error) when (error is ArgumentException or IndexOutOfRangeException)
            {
                batch = $"a frame of {call.Frame.Length} bytes";
            }
            try
            {
                owner = call.Owner?.Invoke() ?? "the server's own SQL";
            }
            catch (Exception error) when (error is InvalidOperationException or NullReferenceException)
            {
                owner = "a client";
            }
            return $"{batch}; from {owner}; {call.StatementsEnded} statement ends in its reply so far, {Stopwatch.GetElapsedTime(0, ClientWaitTicks()).TotalMilliseconds:0} ms of this engine's reader spent waiting for clients to read";
        }
        return "(no longer in flight)";
    }

    /// <summary>The batch running now (0: none, or a control request).</summary>
    public long RunningSequence() => _calls.TryPeek(out var head) ? head.Sequence : 0;

    /// <summary>The statement ends batch <paramref name="sequence"/>'s reply carried so far (<see cref="EngineCall.StatementsEnded"/>); -1: it is no longer in flight.</summary>
    private int StatementsEndedOf(long sequence)
    {
        foreach (var call in _calls)
        {
            if (call.Sequence == sequence)
                return call.StatementsEnded;
        }
        return -1;
    }

    /// <summary>
    /// Kills the host to stop batch <paramref name="sequence"/>: it ignored its cancel for <paramref name="after"/>, or the
    /// host cannot cancel inside the engine. That call fails with <see cref="EngineFailedException.KilledToCancel"/>.
    /// </summary>
    public void KillToCancel(long sequence, EngineCancelReason reason, TimeSpan after)
    {
        if (_failed || Interlocked.Read(ref _killedToCancel) != 0)
            return;
        var head = DescribeCall(sequence);
        if (!KillsToCancel)
        {
            if (Interlocked.Exchange(ref _lastWaitedFor, sequence) == sequence)
                return; // reported once per batch, however many cancels it got
            Metrics?.RecordUnhonouredCancel(reason, killed: false);
            Log.WaitingForUnhonouredCancel(_logger, sequence, reason, after.TotalMilliseconds, head);
            return;
        }
        if (Interlocked.CompareExchange(ref _killedToCancel, sequence, 0) != 0)
            return;
        Metrics?.RecordUnhonouredCancel(reason, killed: true);
        Log.UnhonouredCancel(_logger, sequence, reason, after.TotalMilliseconds, head);
        _killedReason = reason;
        _killedAfter = after;
        _fatalMessage ??= $"killed to stop batch {sequence}, which ran on {after.TotalSeconds:0.0} s after its cancel";
        Log.KillingToCancel(_logger, _channel.ProcessId, sequence, after.TotalMilliseconds);
        _ = KillAsync();
    }

    /// <summary>A host process's environment variable with its loopback cancel listener's secret (engine-host/host.mjs).</summary>
    internal const string CancelSecretVariable = "ZEROPG_CANCEL_SECRET";

    public static async Task<(EngineProcess Engine, EngineStartupInfo Info)> StartAsync(EngineLaunchOptions options, ILogger logger, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var doorbell = options.PollWindow > TimeSpan.Zero ? EngineDoorbell.TryCreate(logger) : null;
        var cancelEndpoint = EngineCancelChannel.NewEndpoint();
        var startOptions = new EngineStartOptions(
            DataDir: options.DataDirectory,
            Database: options.Database,
            Extensions: options.Extensions,
            LoadDataDir: options.LoadDataDir,
            StartParams: options.StartParams.Count > 0 ? options.StartParams : null,
            SnapshotOut: options.SnapshotOut,
            Durability: options.Durability == EngineDurability.Fsync ? "fsync" : null,
            PollMicroseconds: doorbell is null ? 0 : (int)options.PollWindow.TotalMicroseconds,
            Doorbell: doorbell?.Path,
            CancelSocket: cancelEndpoint.HostAddress,
            MemoryLimitMb: options.MemoryLimitMb,
            RolesSql: options.RolesSql);
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        IEngineChannel channel;
        try
        {
            // The secret goes where no other user can read it: a shared host's stdin, a host process's environment.
            channel = options.SharedHost is { } shared
                ? await Pool.SharedEngineHosts.StartWorkerAsync(shared, startOptions with { CancelSecret = cancelEndpoint.Secret }, options.Environment, logger, timeoutSource.Token)
                : ChildProcessChannel.Start(cancelEndpoint.Secret is { } secret ? options with { Environment = new Dictionary<string, string>(options.Environment) { [CancelSecretVariable] = secret } } : options,
                    JsonSerializer.Serialize(startOptions, HostJson.Default.EngineStartOptions));
        }
        catch (Exception error)
        {
            doorbell?.Dispose();
            if (error is OperationCanceledException && !cancellationToken.IsCancellationRequested)
                throw new EngineFailedException($"the shared engine host did not start an engine within {timeout.TotalSeconds:0} s");
            throw;
        }
        var engine = new EngineProcess(channel, doorbell, options.ReplyPollWindow, options.Metrics, logger);
        engine.Begin();
        try
        {
            var ready = engine._ready.Task;
            var finished = await Task.WhenAny(ready, engine._exited.Task).WaitAsync(timeoutSource.Token);
            if (finished != ready)
                throw new EngineFailedException($"the engine host exited during start: {engine.Diagnostics()}");
            doorbell?.Unlink();
            Hosting.KilledProcessLeftovers.SweepOnce(); // the first engine of a process tidies up after killed ones, once it is ready
            var info = await ready;
            if (options.HostCpus is { } cpus) EngineHostCores.Started(channel.ProcessId, cpus); // started on every core (EngineHostCores)
            if (channel is Pool.SharedHostWorker worker && info.HeapBytes > 0)
                worker.MemoryBytes ??= info.HeapBytes; // until the host's next report (/metrics asks from the start)
            if (info.CancelsInEngine)
                engine._cancelChannel = await EngineCancelChannel.ConnectAsync(cancelEndpoint, info.CancelPort, logger,
                    (sequence, reason) => engine._cancelBound.Arm(sequence, reason, engine.CancelRestartAfter), timeoutSource.Token);
            else
                Log.NoCancelInEngine(logger);
            return (engine, info);
        }
        catch (Exception error)
        {
            if (options.HostCpus is { } cpus) EngineHostCores.Started(channel.ProcessId, cpus); // another engine of its host may still run
            await engine.KillAsync(); // its reader then reads the end and closes our own descriptors
            if (engine.IsSharedHostWorker)
                engine._channel.Dispose(); // its FIFOs' descriptors (a process's pipes go with its Process object)
            doorbell?.Dispose();
            cancelEndpoint.Remove();
            if (error is OperationCanceledException && !cancellationToken.IsCancellationRequested)
                throw new EngineFailedException($"the engine did not start within {timeout.TotalSeconds:0} s: {engine.Diagnostics()}");
            throw;
        }
    }

    private void Begin()
    {
        _channel.BeginStderr(line =>
        {
            lock (_stderrTail)
            {
                _stderrTail.Enqueue(line);
                if (_stderrTail.Count > 20)
                    _stderrTail.Dequeue();
            }
            Log.EngineStderr(_logger, line);
        });
        // A dedicated thread blocked in read() wakes as soon as a reply arrives: on two cores the
        // thread-pool hops of async pipe reads cost more than the engine's own work for a small query.
        var reader = new Thread(ReadLoop) { IsBackground = true, Name = $"zeropg-engine-{Id}" };
        _readerThreadId = reader.ManagedThreadId;
        reader.Start();
    }

    /// <summary>Queues <paramref name="call"/> and writes its frame (header included, already filled in).</summary>
    public async ValueTask SubmitAsync(EngineCall call, ReadOnlyMemory<byte> frame)
    {
        call.Frame = frame;
        if (OnReaderThread)
        {
            if (TrySubmitNow(call, frame.Span))
                return;
            await Task.Yield();
        }
        await _writeLock.WaitAsync();
        try
        {
            ThrowIfFailed();
            Queue(call, frame.Span); // before the write: the reply may be read before this thread runs again
            // A synchronous write: a batch is small and the host drains its stdin promptly.
            _doorbell?.Announce(frame.Length);
            _stdin.Write(frame.Span);
        }
        catch (IOException error)
        {
            throw InputClosed(error);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// From the reader thread: writes the frame at once if no other write is under way and the pipe takes it whole without
    /// waiting (<see cref="NonBlockingPipe"/>), else false and nothing is written. Queued after the write: no reply is read
    /// until this thread returns to reading.
    /// </summary>
    private bool TrySubmitNow(EngineCall call, ReadOnlySpan<byte> frame)
    {
        if (_requestsNow is null || !_writeLock.Wait(0))
            return false;
        try
        {
            ThrowIfFailed();
            if (!_requestsNow.TryWrite(frame))
                return false;
            _doorbell?.Announce(frame.Length); // after the write: the host finds what it is told of either way
            Queue(call, frame);
            return true;
        }
        catch (IOException error)
        {
            throw InputClosed(error);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private EngineFailedException InputClosed(IOException error) => new("the engine host's input is closed: " + Diagnostics(), error);

    /// <summary>How many batches were sent to this engine (clients' and ZeroPg's own): the last one's <see cref="EngineCall.Sequence"/>.</summary>
    public long BatchesSent => Interlocked.Read(ref _batchSequence);

    /// <summary>Under the write lock, in the order the frames go out: the reply of the call queued first comes first.</summary>
    private void Queue(EngineCall call, ReadOnlySpan<byte> frame)
    {
        var batch = frame[0] is (byte)HostRequestKind.Batch or (byte)HostRequestKind.OwnBatch;
        if (batch)
            call.Sequence = ++_batchSequence;
        if (_calls.IsEmpty)
            _cancelBound.Started();
        _calls.Enqueue(call);
        _replies.Expect(); // the reader wakes while the engine works, not when the reply comes
        if (batch)
            Metrics?.RecordBatch(frame.Length - HostFrame.HeaderLength);
    }

    /// <summary>Writes a frame that has no reply of its own (a 'P' part of a larger batch).</summary>
    public async ValueTask SendPartAsync(ReadOnlyMemory<byte> frame)
    {
        if (OnReaderThread)
            await Task.Yield();
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
            throw InputClosed(error);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// A write to the host from the reader thread (a session's continuation, see <see cref="EngineCall"/>) must not block: into a
    /// full pipe, while the host blocks on writing a reply nobody reads, it would deadlock the engine. It is tried without
    /// waiting (<see cref="TrySubmitNow"/>), else moves to the thread pool.
    /// </summary>
    private bool OnReaderThread => Environment.CurrentManagedThreadId == _readerThreadId;

    public async Task<JsonElement> ControlAsync(EngineControl command)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(command, HostJson.Default.EngineControl);
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

    // The reading side: frames from the host's stdout, routed to the calls in the order they were sent.
    private void ReadLoop()
    {
        var buffer = new byte[256 * 1024];
        int start = 0, end = 0;
        try
        {
            while (true)
            {
                var frames = new MessageReader(buffer.AsSpan(start, end - start), LengthWord.PayloadOnly);
                while (frames.TryRead(out var frame))
                {
                    var payload = new ReadOnlySequence<byte>(buffer, start + frame.Offset + HostFrame.HeaderLength, frame.Length - HostFrame.HeaderLength);
                    var handled = HandleFrameAsync((HostReplyKind)frame.Code, payload);
                    if (!handled.IsCompletedSuccessfully)
                        WaitForClient(handled); // back-pressure from a slow client
                }
                start += frames.Consumed;
                if (start > 0)
                {
                    Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                    end -= start;
                    start = 0;
                }
                if (end >= HostFrame.HeaderLength)
                {
                    var needed = MessageFramer.WholeLength(buffer, LengthWord.PayloadOnly);
                    if (needed > buffer.Length)
                        Array.Resize(ref buffer, checked((int)needed));
                }
                var read = _replies.Read(buffer, end, buffer.Length - end, _expectingReply);
                if (read == 0)
                    break;
                end += read;
            }
        }
        catch (Exception error)
        {
            _fatalMessage ??= error.Message;
        }
        _failed = true;
        _channel.WaitForExitAsync(TimeSpan.FromSeconds(2)).GetAwaiter().GetResult();
        // Descriptors of our own that nothing closes otherwise: a dead engine is replaced, not disposed. Only this thread
        // writes through the non-blocking one and reads through the poll's; no other thread touches the eventfd unless the
        // reader is parked, which it never is again.
        _requestsNow?.Dispose();
        _replies.Dispose();
        var failure = new EngineFailedException(Diagnostics());
        _ready.TrySetException(failure);
        var killedFor = Interlocked.Read(ref _killedToCancel);
        while (_calls.TryDequeue(out var call))
        {
            call.Fail(killedFor != 0 && call.Sequence == killedFor
                ? new EngineFailedException(failure.Message) { KilledToCancel = true, CancelReason = _killedReason, IgnoredCancelFor = _killedAfter }
                : failure);
        }
        _exited.TrySetResult();
        _exitedSignal.Cancel();
    }

    /// <summary>Reader thread: waits for a client to take its reply; the time is kept apart (<see cref="CancelBound"/> does not count it).</summary>
    private void WaitForClient(ValueTask handled)
    {
        var since = Stopwatch.GetTimestamp();
        Volatile.Write(ref _clientWaitSince, since);
        try
        {
            handled.AsTask().GetAwaiter().GetResult();
        }
        finally
        {
            Volatile.Write(ref _clientWaitTicks, _clientWaitTicks + (Stopwatch.GetTimestamp() - since));
            Volatile.Write(ref _clientWaitSince, 0);
        }
    }

    private async ValueTask HandleFrameAsync(HostReplyKind kind, ReadOnlySequence<byte> payload)
    {
        switch (kind)
        {
            case HostReplyKind.ReplyData:
                if (_calls.TryPeek(out var current))
                    await current.OnReplyDataAsync(payload);
                break;
            case HostReplyKind.ReplyEnd:
            case HostReplyKind.ControlReply:
                if (_calls.TryDequeue(out var finished))
                {
                    _cancelBound.Started();
                    await finished.OnReplyEndAsync(payload);
                    finished.Complete();
                }
                break;
            case HostReplyKind.Ready:
                _ready.TrySetResult(EngineStartupInfo.Parse(payload.ToArray()));
                break;
            case HostReplyKind.Fatal:
                _fatalMessage = Encoding.UTF8.GetString(payload);
                Log.EngineFatal(_logger, _fatalMessage);
                break;
            default:
                throw new InvalidDataException($"unknown frame kind {(byte)kind} from the engine host");
        }
    }

    // Stopping the host, and what to say about it when it failed.
    public string Diagnostics()
    {
        string tail;
        lock (_stderrTail)
            tail = string.Join(" | ", _stderrTail.TakeLast(5));
        return $"{_channel.Describe()}{(_fatalMessage is null ? "" : ": " + _fatalMessage)}{(tail.Length > 0 ? "; stderr: " + tail : "")}";
    }

    public async Task KillAsync()
    {
        try
        {
            _channel.Kill();
        }
        catch (EngineFailedException)
        {
            // The shared host is gone, and the engine with it.
        }
        await _channel.WaitForExitAsync(TimeSpan.FromSeconds(5)); // else already gone or not killable: nothing more to do
    }

    /// <summary>How long <see cref="DisposeAsync"/> waits for the host to finish its queued work and close before it kills it.</summary>
    internal TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Closes stdin so the host finishes queued work and closes PGlite cleanly; kills it if it does not exit in time.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
            return;
        await _writeLock.WaitAsync();
        try
        {
            _failed = true; // no new requests: the host is closing
            _requestsNow?.Dispose(); // the host sees its input end only once every descriptor of it is closed
            _channel.CloseRequests();
            _doorbell?.AnnounceEnd();
        }
        catch (IOException)
        {
            // The host is already gone.
        }
        finally
        {
            _writeLock.Release();
        }
        if (!await _channel.WaitForExitAsync(CloseTimeout))
            await KillAsync();
        await _exited.Task.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { });
        _replies.Dispose();
        _doorbell?.Dispose();
        if (_cancelChannel is { } channel)
            await channel.DisposeAsync();
        _channel.Dispose();
    }
}
