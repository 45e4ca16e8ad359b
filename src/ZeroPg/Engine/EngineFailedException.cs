namespace ZeroPg.Engine;

/// <summary>The engine process died or reported a fatal error while requests were in flight.</summary>
internal sealed class EngineFailedException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The server killed the engine on purpose to stop this call, which a client cancelled (see <see cref="CancelBound"/>).</summary>
    public bool KilledToCancel { get; init; }

    /// <summary>With <see cref="KilledToCancel"/>: why the call was cancelled (the error its client gets).</summary>
    public EngineCancelReason CancelReason { get; init; } = EngineCancelReason.User;

    /// <summary>With <see cref="KilledToCancel"/>: how long the call ran on after its cancel before the engine was killed.</summary>
    public TimeSpan IgnoredCancelFor { get; init; }
}
