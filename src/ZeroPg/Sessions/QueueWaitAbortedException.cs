using ZeroPg.Protocol;

namespace ZeroPg.Sessions;

/// <summary>A unit of work was dropped before it reached the engine (cancelled, or waited too long).</summary>
internal sealed class QueueWaitAbortedException(PgError error) : Exception(error.Message)
{
    public PgError Error { get; } = error;
}
