using ZeroPg.Protocol;

namespace ZeroPg.Sessions;

/// <summary>What a unit did, as the session objects see it after it ran (<see cref="ISessionState.AfterUnitAsync"/>).</summary>
internal sealed record UnitOutcome(UnitEffects Effects, TransactionStatus Status, bool InCopy, EngineSessionState Engine)
{
    /// <summary>The client is outside a transaction block and any COPY: what the unit did is final, and can be read back.</summary>
    public bool Settled => Status == TransactionStatus.Idle && !InCopy;
}
