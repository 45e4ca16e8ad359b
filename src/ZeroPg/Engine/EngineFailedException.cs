namespace ZeroPg.Engine;

/// <summary>The engine process died or reported a fatal error while requests were in flight.</summary>
internal sealed class EngineFailedException(string message, Exception? inner = null) : Exception(message, inner);
