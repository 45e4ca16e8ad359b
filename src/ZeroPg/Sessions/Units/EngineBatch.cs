using ZeroPg.Protocol;
using ZeroPg.Protocol.Frontend;

namespace ZeroPg.Sessions;

/// <summary>
/// One batch for the engine as the session builds it: the bytes of the host frame (<see cref="Buffer"/>),
/// how to read its reply (<see cref="Plan"/>) and what the client's messages in it do to the client's own
/// state (<see cref="Effects"/>). Reused from unit to unit.
/// </summary>
internal sealed class EngineBatch
{
    public BatchBuffer Buffer { get; } = new();

    public ReplyPlan Plan { get; } = new();

    public UnitEffects Effects { get; } = new();

    public bool IsEmpty => Buffer.IsEmpty;

    /// <summary>Runs right before the batch is written to the engine (what its preamble changes in the shared engine state).</summary>
    public event Action? Sending;

    /// <summary>The batch is being written to the engine.</summary>
    public void MarkSending()
    {
        var sending = Sending;
        Sending = null;
        sending?.Invoke();
    }

    public void Clear()
    {
        Buffer.Clear();
        Plan.Clear();
        Effects.Clear();
        Sending = null;
    }

    /// <summary>A Query of ZeroPg's own at the head of the batch: answered and swallowed whole (see <see cref="ReplyPlan.PreambleQueries"/>).</summary>
    public void AddPreambleQuery(string sql)
    {
        if (Plan.Count > 0)
            throw new InvalidOperationException("a preamble query must come before the client's messages");
        QueryMessage.Write(Buffer, sql);
        Plan.AddPreambleQuery();
    }

    /// <summary>
    /// The client's state restored in one transaction block of ZeroPg's own, first in the batch (see <see cref="ReplyPlan.GuardedPreamble"/>):
    /// its BEGIN as a Query of its own, then <paramref name="sql"/> (the restore, ending in COMMIT). Postgres checks for interrupts
    /// before each statement of a Query: a cancel raised when the batch starts (one that came while the client was queued) ends
    /// the lone BEGIN, which holds nothing, instead of ending the restore before its block began.
    /// </summary>
    public void AddGuardedPreambleQuery(string sql)
    {
        if (Plan.Count > 0)
            throw new InvalidOperationException("a preamble query must come before the client's messages");
        QueryMessage.Write(Buffer, "BEGIN READ WRITE");
        QueryMessage.Write(Buffer, sql);
        Plan.AddGuardedPreambleQuery();
    }

    /// <summary>Passes a client message on unchanged; its reply goes to the client.</summary>
    public void Forward(FrontendCode code, ReadOnlySpan<byte> message)
    {
        Buffer.Append(message);
        Plan.Expect(ExpectKind.Forward, code);
    }
}
