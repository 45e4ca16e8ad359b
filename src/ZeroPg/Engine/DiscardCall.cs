namespace ZeroPg.Engine;

/// <summary>A call whose reply nobody reads (server housekeeping such as CHECKPOINT at shutdown).</summary>
internal sealed class DiscardCall : EngineCall;
