using System.Buffers;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;

namespace ZeroPg.Sessions;

/// <summary>
/// Matches the messages of one engine reply to the batch's <see cref="ReplyPlan"/> in order and decides
/// what goes on: a reply to the client's own message passes, a reply to a message ZeroPg injected is
/// dropped, ZeroPg's own answers are emitted in their turn, an error ZeroPg raised in the engine is
/// replaced by its real text. Pure: what passes is handed to a <see cref="RouteMessage"/> callback, so
/// this is tested without an engine. Runs on the engine reader thread during the session's call.
/// </summary>
internal sealed class ReplyRouter
{
    public delegate void RouteMessage(BackendCode code, ReadOnlySpan<byte> message);

    private ReplyPlan? _plan;
    private int _next;
    private int _preambleLeft;

    /// <summary>After an error in an extended sequence the engine ignores everything up to Sync; so do we. Lasts across calls.</summary>
    private bool _skippingToSync;

    /// <summary>The current non-extended message (a Query) got an error before its ReadyForQuery.</summary>
    private bool _currentFailed;

    /// <summary>Status of the last ReadyForQuery in the reply, if there was one.</summary>
    public TransactionStatus? LastStatus { get; private set; }

    /// <summary>An auto-prepared Query failed before running (see <see cref="ExpectKind.BindRetryable"/>): the session must run it plain.</summary>
    public bool RetryPlain { get; private set; }

    /// <summary>
    /// The guarded preamble (<see cref="ReplyPlan.GuardedPreamble"/>) failed in the engine and left its transaction block aborted:
    /// the client's statements behind it failed there without effect (25P02), so nothing of the reply after it reaches the
    /// client but notifications, and the session ends the block and builds the unit again. Null when it did not fail.
    /// </summary>
    public ErrorReply? PreambleFailure { get; private set; }

    /// <summary>
    /// The guarded preamble's restore failed outside its block (an interrupt ended its BEGIN, then another the restore): the
    /// client's statements ran on an engine session not brought to its state. Their replies went on (they ran); the session forgets what it knew of the engine
    /// session's state. Null when it did not fail so.
    /// </summary>
    public ErrorReply? PreambleFailedOutsideBlock { get; private set; }

    /// <summary>
    /// A Query of the preamble failed, guarded or not. An unguarded restore is one Query of several statements: one that fails
    /// (a setting the engine no longer takes, such as temp_buffers once a temp table was used) rolls back the others, so the
    /// engine session is not what the batch's send recorded (<see cref="EngineStateRestore"/>).
    /// </summary>
    public bool PreambleErred { get; private set; }

    private ErrorReply? _preambleError;

    /// <summary>Starts a reply; without a plan every message passes.</summary>
    public void Begin(ReplyPlan? plan)
    {
        _plan = plan;
        _next = 0;
        _preambleLeft = plan?.PreambleQueries ?? 0;
        _currentFailed = false;
        RetryPlain = false;
        LastStatus = null;
        PreambleFailure = PreambleFailedOutsideBlock = _preambleError = null;
        PreambleErred = false;
    }

    /// <summary>An error ended the client's extended sequence: the engine ignores everything until its Sync.</summary>
    public bool SkippingToSync => _skippingToSync;

    /// <summary>The engine was restarted or the batch abandoned: no skipping carries over.</summary>
    public void ResetSequence() => _skippingToSync = false;

    public void OnMessage(BackendCode code, ReadOnlySpan<byte> message, RouteMessage route)
    {
        if (code == BackendCode.ReadyForQuery)
            LastStatus = ReadyForQueryReply.Parse(message).Status;
        if (_preambleLeft > 0)
        {
            // ZeroPg's own Queries: nothing of their replies reaches the client but notifications.
            // The restore of a guarded preamble is its second Query (its lone BEGIN, first, may fail harmlessly: see EngineBatch).
            var guarded = _plan is { GuardedPreamble: true } && _preambleLeft == _plan.PreambleQueries - 1;
            if (code == BackendCode.ErrorResponse)
                PreambleErred = true;
            if (code == BackendCode.NotificationResponse)
            {
                route(code, message);
            }
            else if (code == BackendCode.ErrorResponse && guarded)
            {
                _preambleError ??= ErrorReply.Parse(message);
            }
            else if (code == BackendCode.ReadyForQuery)
            {
                if (guarded && _preambleError is { } error)
                {
                    if (LastStatus == TransactionStatus.Failed)
                        PreambleFailure = error;
                    else
                        PreambleFailedOutsideBlock = error;
                }
                _preambleLeft--;
            }
            return;
        }
        if (PreambleFailure is not null)
        {
            // The client's statements met the aborted block: the session runs them again once its state is restored.
            if (code == BackendCode.NotificationResponse)
                route(code, message);
            return;
        }
        if (RetryPlain)
        {
            // The session runs the Query again: nothing of this reply reaches the client.
            if (code == BackendCode.NotificationResponse)
                route(code, message);
            return;
        }
        if (_plan is null || code is BackendCode.NoticeResponse or BackendCode.ParameterStatus or BackendCode.NotificationResponse)
        {
            route(code, message);
            return;
        }
        EmitSynthesized(route);
        if (_next >= _plan.Count)
        {
            route(code, message); // more than the batch asked for: pass it on rather than lose it
            return;
        }
        var current = _plan[_next];
        if (code == BackendCode.ErrorResponse && current.IsExtended)
        {
            if (current.Kind == ExpectKind.ReplaceError)
                RouteError(current.Error!, route);
            else if (current.Kind == ExpectKind.BindRetryable && ErrorReply.SqlStateOf(message) == SqlState.FeatureNotSupported)
                RetryPlain = true;
            else if (current.ClientNames is { } names)
                RouteWithNames(message, names, route); // an engine statement name of the client's own (Bind, Describe, Close, Execute)
            else
                route(code, message);
            _plan.Record(_next++, false);
            _skippingToSync = true;
            return;
        }
        if (code == BackendCode.ReadyForQuery && _skippingToSync)
        {
            // Everything between the error and this Sync was skipped by the engine.
            while (_next < _plan.Count && _plan[_next].Code != FrontendCode.Sync)
                _plan.Record(_next++, false);
            _skippingToSync = false;
            current = _next < _plan.Count ? _plan[_next] : current;
        }
        if (code == BackendCode.ErrorResponse)
            _currentFailed = true; // a simple Query's error: it still ends with ReadyForQuery
        if (current.Kind is not (ExpectKind.Swallow or ExpectKind.BindRetryable) && !(current.Kind == ExpectKind.DescribeForQuery && code == BackendCode.NoData))
        {
            if (code == BackendCode.ErrorResponse && current.ClientNames is { } names)
                RouteWithNames(message, names, route);
            else
                route(code, message);
        }
        if (current.IsEndedBy(code) && _next < _plan.Count)
        {
            _plan.Record(_next++, !_currentFailed);
            _currentFailed = false;
        }
    }

    /// <summary>
    /// The engine was killed to stop this call (its client cancelled it): ends the client's reply as Postgres ends a
    /// cancelled one. <paramref name="error"/> closes the statement that was running (unless an error of its sequence
    /// already went out), then every Query or Sync still unanswered gets its ReadyForQuery with <paramref name="status"/>;
    /// one after the first gets the error too (its statements never ran). A sequence left without Sync is skipped to
    /// its Sync, as after any error.
    /// </summary>
    public void Abandon(PgError error, TransactionStatus status, RouteMessage route)
    {
        var errorBytes = new ArrayBufferWriter<byte>(256);
        ErrorResponse.Write(errorBytes, error);
        var ready = new ArrayBufferWriter<byte>(8);
        ReadyForQuery.Write(ready, status);
        _preambleLeft = 0;
        RetryPlain = false;
        PreambleFailure = null; // the engine that had the aborted block is gone: the client gets its cancel's error
        if (_plan is null)
        {
            route(BackendCode.ErrorResponse, errorBytes.WrittenSpan);
            route(BackendCode.ReadyForQuery, ready.WrittenSpan);
            LastStatus = status;
            return;
        }
        var errorSent = _skippingToSync || _currentFailed;
        var clientWaits = false;
        for (; _next < _plan.Count; _next++)
        {
            var expectation = _plan[_next];
            _plan.Record(_next, false);
            if (expectation.Kind == ExpectKind.Swallow)
                continue; // ZeroPg's own message: the client expects nothing for it
            clientWaits = true;
            if (expectation.Code is not (FrontendCode.Query or FrontendCode.Sync))
                continue;
            if (!errorSent)
                route(BackendCode.ErrorResponse, errorBytes.WrittenSpan);
            route(BackendCode.ReadyForQuery, ready.WrittenSpan);
            LastStatus = status;
            errorSent = false;
            clientWaits = false;
        }
        _skippingToSync = clientWaits;
        if (clientWaits && !errorSent)
            route(BackendCode.ErrorResponse, errorBytes.WrittenSpan);
        _currentFailed = false;
    }

    /// <summary>The reply is complete: ZeroPg's answers that came last are due now.</summary>
    public void OnEnd(RouteMessage route) => EmitSynthesized(route);

    /// <summary>Emits the replies ZeroPg answers itself once the messages before them are answered.</summary>
    private void EmitSynthesized(RouteMessage route)
    {
        if (_plan is null)
            return;
        while (_next < _plan.Count && !_skippingToSync)
        {
            var expectation = _plan[_next];
            if (expectation.Kind == ExpectKind.Synthesize)
            {
                foreach (var message in new MessageReader(expectation.Reply!))
                    route(message.Backend, message.Bytes);
            }
            else if (!expectation.HasNoReply)
            {
                return;
            }
            _next++;
        }
    }

    private static void RouteWithNames(ReadOnlySpan<byte> message, IReadOnlyDictionary<string, string> names, RouteMessage route)
    {
        var bytes = new ArrayBufferWriter<byte>(message.Length + 64);
        ErrorResponse.WriteWithNamesReplaced(bytes, message, names);
        route(BackendCode.ErrorResponse, bytes.WrittenSpan);
    }

    private static void RouteError(PgError error, RouteMessage route)
    {
        var bytes = new ArrayBufferWriter<byte>(128);
        ErrorResponse.Write(bytes, error);
        route(BackendCode.ErrorResponse, bytes.WrittenSpan);
    }
}
