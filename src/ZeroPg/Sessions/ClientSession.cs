using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using ZeroPg.Engine;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;

namespace ZeroPg.Sessions;

/// <summary>
/// One client connection: reads its messages, groups them into units of work for the shared engine,
/// and relays the engine's replies, so that the client sees a session of its own.
/// </summary>
internal sealed partial class ClientSession
{
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly SessionServices _services;
    private readonly ReplyForwarder _forwarder;
    private readonly BatchBuffer _batch = new();
    private CancellationTokenSource _cancelWait = new();
    private readonly CancellationToken _connectionClosed;

    /// <summary>Transaction status as the client last saw it.</summary>
    private TransactionStatus _status = TransactionStatus.Idle;

    /// <summary>Extended-protocol messages were accepted since the last Sync.</summary>
    private bool _extendedOpen;

    /// <summary>The value of <see cref="_extendedOpen"/> at the last unit boundary in the batch.</summary>
    private bool _extendedOpenAtUnitEnd;

    /// <summary>The engine holds extended messages of ours not yet followed by Sync.</summary>
    private bool _engineExtendedOpen;

    public ClientSession(ConnectionContext connection, SessionServices services)
    {
        _input = connection.Transport.Input;
        _output = connection.Transport.Output;
        _services = services;
        _connectionClosed = connection.ConnectionClosed;
        _forwarder = new ReplyForwarder(this, _output);
        ConnectionId = connection.ConnectionId;
        // A client that leaves while queued for the engine stops waiting at once.
        _connectionClosed.Register(() =>
        {
            try
            {
                _cancelWait.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // Replaced meanwhile; the new one is checked on the next wait.
            }
        });
    }

    public string ConnectionId { get; }
    public int ProcessId { get; private set; }
    public int SecretKey { get; private set; }
    public IReadOnlyDictionary<string, string> StartupParameters { get; private set; } = new Dictionary<string, string>();

    internal void AssignIdentity(int processId, int secretKey)
    {
        ProcessId = processId;
        SecretKey = secretKey;
    }

    /// <summary>Serves the connection until the client leaves or a fatal error ends it.</summary>
    public async Task RunAsync()
    {
        try
        {
            if (!await HandshakeAsync())
                return;
            await MessageLoopAsync();
        }
        catch (PgErrorException error)
        {
            await TryWriteFatalAsync(error.Error);
        }
        catch (EngineFailedException error)
        {
            await TryWriteFatalAsync(EngineLostError(error));
        }
        catch (Exception error) when (IsDisconnect(error))
        {
            // The client went away; cleanup below undoes what it left open.
        }
        finally
        {
            await CleanupAsync();
            _services.Registry.Remove(this);
        }
    }

    private PgError EngineLostError(EngineFailedException error) => error.KilledToCancel && _killedEngineToCancel
        ? PgError.Fatal(SqlState.QueryCanceled, "canceling statement due to user request",
            "PGlite cannot interrupt a running query, so the engine was restarted to stop it. Committed data is kept; reconnect.", error.Message)
        : PgError.Fatal(SqlState.AdminShutdown,
        "terminating connection because the PGlite engine stopped; it is being restarted",
        _services.Options.IsMemory
            ? "The database is in memory (memory://), so its data is lost. Reconnect to get a fresh database; use a data directory (--db DIR) to keep data across engine restarts."
            : "Committed data is kept; reconnect and retry the transaction.",
        error.Message);

    private async Task MessageLoopAsync()
    {
        var maxMessage = _services.Options.MaxMessageSize;
        while (true)
        {
            var result = await ReadWithIdleTimeoutAsync();
            await _outputGate.WaitAsync(_connectionClosed);
            try
            {
                if (!await ProcessInputAsync(result, maxMessage))
                    return;
                if (DrainNotifications())
                    await _output.FlushAsync();
            }
            finally
            {
                _outputGate.Release();
            }
            if (!_notifications.IsEmpty)
                _ = PumpNotificationsAsync();
        }
    }

    /// <summary>
    /// Reads client input. A client that sits idle while it holds the shared engine (open transaction)
    /// blocks everyone, so past the idle-in-transaction timeout it is disconnected and rolled back.
    /// </summary>
    private async ValueTask<ReadResult> ReadWithIdleTimeoutAsync()
    {
        var timeout = _services.Options.IdleInTransactionTimeout;
        if (timeout <= TimeSpan.Zero || _services.Scheduler.Owner != this)
            return await _input.ReadAsync(_connectionClosed);
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(_connectionClosed);
        idle.CancelAfter(timeout);
        try
        {
            return await _input.ReadAsync(idle.Token);
        }
        catch (OperationCanceledException) when (!_connectionClosed.IsCancellationRequested)
        {
            throw new PgErrorException(PgError.Fatal(SqlState.IdleInTransactionTimeout,
                "terminating connection due to idle-in-transaction timeout",
                $"The client held the shared engine in an open transaction for more than {timeout.TotalSeconds:0.#} s without sending anything; its transaction was rolled back. Raise --idle-in-transaction-timeout or keep transactions short."));
        }
    }

    /// <summary>Handles what one read brought; false when the session must end.</summary>
    private async Task<bool> ProcessInputAsync(ReadResult result, int maxMessage)
    {
        if (_shutdownRequested)
            throw new PgErrorException(PgError.Fatal(SqlState.AdminShutdown, "terminating connection due to administrator command",
                "The ZeroPg server is shutting down; an open transaction was rolled back."));
        var buffer = result.Buffer;
        var step = Step.Continue;
        try
        {
            while (step == Step.Continue && FrontendFramer.TryReadMessage(ref buffer, maxMessage, out var code, out var message))
                step = Accept(code, message);
        }
        finally
        {
            // Stopping early leaves whole messages in the buffer: mark them unexamined so the next read returns them at once.
            if (step == Step.Continue)
                _input.AdvanceTo(buffer.Start, buffer.End);
            else
                _input.AdvanceTo(buffer.Start);
        }
        if (step == Step.Terminate)
            return false;
        if (step != Step.Continue)
            await RunStepAsync(step);
        await SubmitCompleteUnitsAsync();
        return !(result.IsCompleted && step == Step.Continue);
    }

    private volatile bool _shutdownRequested;

    /// <summary>The server is stopping: end the session at its next read (a running batch finishes first).</summary>
    internal void RequestShutdown()
    {
        _shutdownRequested = true;
        _input.CancelPendingRead();
    }

    /// <summary>True when the session must write <paramref name="message"/> on; false to swallow it.</summary>
    internal bool ObserveReplyMessage(BackendCode code, ReadOnlySpan<byte> message, ReplyMode mode)
    {
        if (code != BackendCode.ParameterStatus || mode != ReplyMode.Forward)
            return true;
        // PGlite reports settings ZeroPg restored for this client one call late, and after errors: a
        // client is told of a setting only when its value differs from what it was last told.
        var (name, value) = ParameterStatus.Read(message[5..]);
        if (_reported.TryGetValue(name, out var known) && known == value)
            return false;
        _reported[name] = value;
        return true;
    }

    /// <summary>The ParameterStatus values this client has been sent.</summary>
    private readonly Dictionary<string, string> _reported = new(StringComparer.OrdinalIgnoreCase);

    private async Task TryWriteFatalAsync(PgError error)
    {
        try
        {
            ErrorResponse.Write(_output, error);
            await _output.FlushAsync();
        }
        catch (Exception writeError) when (IsDisconnect(writeError))
        {
            // Nobody is listening any more.
        }
    }

    internal static bool IsDisconnect(Exception error) => error is IOException or OperationCanceledException
        or ConnectionResetException or ConnectionAbortedException or ObjectDisposedException or InvalidOperationException;

    private enum Step
    {
        Continue,
        StartCopy,
        SendCopyPart,
        FinishCopy,
        LocalError,
        Terminate,
    }
}
