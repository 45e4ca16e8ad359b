using ZeroPg.Protocol;

namespace ZeroPg.Sessions;

/// <summary>
/// A unit was cancelled (or its queue wait ran out) before any of it reached the engine. Only its first statement
/// (up to the first Query or Sync) is answered with the error, as Postgres cancels only what runs; what the client
/// pipelined after it is run as a unit of its own.
/// </summary>
internal sealed class UnitDroppedException(PgError error) : Exception(error.Message)
{
    public PgError Error { get; } = error;
}
