using ZeroPg.Protocol;

namespace ZeroPg.Sessions;

/// <summary>Matching reply messages to the batch's messages in order (<see cref="Expectation"/>): what to pass on, drop or answer.</summary>
internal sealed partial class ReplyForwarder
{
    private void OnMessage(Message reply)
    {
        var code = reply.Backend;
        var message = reply.Bytes;
        if (_expectations is null || code is BackendCode.NoticeResponse or BackendCode.ParameterStatus or BackendCode.NotificationResponse)
        {
            Route(code, message);
            return;
        }
        EmitSynthesized();
        if (_next >= _expectations.Count)
        {
            Route(code, message); // more than the batch asked for: pass it on rather than lose it
            return;
        }
        var current = _expectations[_next];
        if (code == BackendCode.ErrorResponse && current.IsExtended)
        {
            if (current.Kind == ExpectKind.ReplaceError)
                Write(current.Error!);
            else if (current.Kind == ExpectKind.BindRetryable && Protocol.Backend.ErrorResponse.ReadSqlState(message[5..]) == SqlState.FeatureNotSupported)
                RetryPlain = true;
            else
                Route(code, message);
            current.OnCompleted?.Invoke(false);
            _next++;
            _skippingToSync = true;
            return;
        }
        if (code == BackendCode.ReadyForQuery && _skippingToSync)
        {
            // Everything between the error and this Sync was skipped by the engine.
            while (_next < _expectations.Count && _expectations[_next].Code != FrontendCode.Sync)
                _expectations[_next++].OnCompleted?.Invoke(false);
            _skippingToSync = false;
            current = _next < _expectations.Count ? _expectations[_next] : current;
        }
        if (code == BackendCode.ErrorResponse)
            _currentFailed = true; // a simple Query's error: it still ends with ReadyForQuery
        if (current.Kind is not (ExpectKind.Swallow or ExpectKind.BindRetryable) && !(current.Kind == ExpectKind.DescribeForQuery && code == BackendCode.NoData))
            Route(code, message);
        else if (code == BackendCode.ReadyForQuery)
            LastStatus = (TransactionStatus)message[5];
        if (current.IsEndedBy(code))
        {
            current.OnCompleted?.Invoke(!_currentFailed);
            _currentFailed = false;
            _next++;
        }
    }

    /// <summary>Writes the replies ZeroPg answers itself once the messages before them are answered.</summary>
    private void EmitSynthesized()
    {
        if (_expectations is null)
            return;
        while (_next < _expectations.Count && !_skippingToSync)
        {
            var expectation = _expectations[_next];
            if (expectation.Kind == ExpectKind.Synthesize)
                RouteAll(expectation.Reply!);
            else if (!expectation.HasNoReply)
                return;
            _next++;
        }
    }

    private void RouteAll(byte[] messages)
    {
        foreach (var message in new MessageReader(messages))
            Route(message.Backend, message.Bytes);
    }
}
