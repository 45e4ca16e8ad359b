using System.Buffers;
using System.IO.Pipelines;
using ZeroPg.Engine;
using ZeroPg.Protocol;

namespace ZeroPg.Sessions;

/// <summary>What to do with the messages of one engine reply.</summary>
internal enum ReplyMode
{
    /// <summary>Send them to the client.</summary>
    Forward,
    /// <summary>Keep them for the session to inspect (a request ZeroPg injected).</summary>
    Capture,
    /// <summary>Drop them (cleanup after the client is gone).</summary>
    Discard,
}

/// <summary>
/// Receives one session's engine replies, cuts them into messages and routes each one: to the
/// client, to the session's own bookkeeping, or nowhere.
/// </summary>
internal sealed partial class ReplyForwarder : EngineCall
{
    private const int FlushThreshold = 64 * 1024;

    private readonly ClientSession _session;
    private readonly PipeWriter _output;
    private readonly StreamFramer _framer = new();
    private readonly StreamFramer.MessageHandler _onMessage;
    private ReplyMode _mode;
    private bool _dropCopyInResponse;
    private List<Expectation>? _expectations;
    private int _next;

    /// <summary>After an error in an extended sequence the engine ignores everything up to Sync; so do we. Lasts across calls.</summary>
    private bool _skippingToSync;

    /// <summary>The current non-extended message (a Query) got an error before its ReadyForQuery.</summary>
    private bool _currentFailed;

    public ReplyForwarder(ClientSession session, PipeWriter output)
    {
        _session = session;
        _output = output;
        _onMessage = OnMessage;
    }

    /// <summary>Status of the last ReadyForQuery in the reply, if there was one.</summary>
    public TransactionStatus? LastStatus { get; private set; }

    /// <summary>An auto-prepared Query failed before running (see <see cref="ExpectKind.BindRetryable"/>): the session must run it plain.</summary>
    public bool RetryPlain { get; private set; }

    /// <summary>Messages kept in <see cref="ReplyMode.Capture"/> mode, whole (type, length, body).</summary>
    public List<byte[]> Captured { get; } = [];

    /// <summary>True when writing to the client failed: it is gone; the reply is still drained.</summary>
    public bool ClientGone { get; private set; }

    /// <summary>Starts a reply; with <paramref name="expectations"/>, messages are matched to the batch's messages in order.</summary>
    public void Begin(ReplyMode mode, bool dropCopyInResponse = false, List<Expectation>? expectations = null)
    {
        _expectations = expectations;
        _next = 0;
        _currentFailed = false;
        RetryPlain = false;
        ResetCompletion();
        _framer.Reset();
        _mode = mode;
        _dropCopyInResponse = dropCopyInResponse;
        LastStatus = null;
        Captured.Clear();
    }

    public override async ValueTask OnReplyDataAsync(ReadOnlySequence<byte> data)
    {
        _framer.Feed(data, _onMessage);
        if (_mode == ReplyMode.Forward && _output.UnflushedBytes > FlushThreshold)
            await FlushAsync();
    }

    public override async ValueTask OnReplyEndAsync(ReadOnlySequence<byte> payload)
    {
        EmitSynthesized();
        if (_mode == ReplyMode.Forward)
            await FlushAsync();
    }

    /// <summary>The engine was restarted or the batch abandoned: no skipping carries over.</summary>
    public void ResetSequence() => _skippingToSync = false;

    private void Write(PgError error)
    {
        if (_mode == ReplyMode.Forward && !ClientGone)
            Protocol.Backend.ErrorResponse.Write(_output, error);
    }

    private void Route(BackendCode code, ReadOnlySpan<byte> message)
    {
        if (RetryPlain)
        {
            // The session runs the Query again: nothing of this reply reaches the client.
            if (code == BackendCode.ReadyForQuery)
                LastStatus = (TransactionStatus)message[5];
            return;
        }
        switch (code)
        {
            case BackendCode.ReadyForQuery:
                LastStatus = (TransactionStatus)message[5];
                if (_mode == ReplyMode.Forward && !ClientGone && _session.TakeCancelWarning() is { } warning)
                    Protocol.Backend.ErrorResponse.Write(_output, warning);
                break;
            case BackendCode.CopyInResponse when _dropCopyInResponse:
                // The client already got ZeroPg's own CopyInResponse before it sent the data.
                return;
            case BackendCode.BackendKeyData:
                return;
            case BackendCode.NotificationResponse:
                _session.DispatchNotification(message, writeInline: _mode == ReplyMode.Forward && !ClientGone);
                return;
        }
        if (!_session.ObserveReplyMessage(code, message, _mode))
            return;
        switch (_mode)
        {
            case ReplyMode.Forward when !ClientGone:
                _output.Write(message);
                break;
            case ReplyMode.Capture:
                Captured.Add(message.ToArray());
                break;
        }
    }

    private async ValueTask FlushAsync()
    {
        if (ClientGone)
            return;
        try
        {
            var result = await _output.FlushAsync();
            if (result.IsCompleted || result.IsCanceled)
                ClientGone = true;
        }
        catch (Exception error) when (error is IOException or InvalidOperationException or OperationCanceledException
            or Microsoft.AspNetCore.Connections.ConnectionResetException)
        {
            ClientGone = true;
        }
    }
}
