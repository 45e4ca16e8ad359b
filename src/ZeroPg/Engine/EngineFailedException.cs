namespace ZeroPg.Engine;

/// <summary>The engine process died or reported a fatal error while requests were in flight.</summary>
internal sealed class EngineFailedException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The server killed the engine on purpose to stop a running query a client cancelled.</summary>
    public bool KilledToCancel { get; init; }
}
