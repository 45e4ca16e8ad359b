using ZeroPg.Protocol;

namespace ZeroPg.Sessions;

/// <summary>
/// How one engine call's reply is to be read: first the preamble (ZeroPg's own Queries at the head of
/// the batch, see <see cref="EngineStateRestore"/>, each answered up to its ReadyForQuery and swallowed
/// whole), then one <see cref="Expectation"/> per message sent, in order. The engine reader thread only
/// records each expectation's outcome; the session applies the outcomes (their callbacks) after the
/// reply is complete, so the state they touch has one owner.
/// </summary>
internal sealed class ReplyPlan
{
    private readonly List<Expectation> _expectations = [];
    private readonly List<Outcome> _outcomes = [];

    private enum Outcome : byte { Pending, Succeeded, Failed }

    public int PreambleQueries { get; private set; }

    /// <summary>
    /// The first two preamble Queries are a BEGIN and the client's state restored inside that transaction block
    /// (<see cref="EngineStateRestore"/>): an error in the second leaves the block aborted, so the client's statements behind it
    /// fail without effect and the session builds the unit again (<see cref="ReplyRouter.PreambleFailure"/>).
    /// </summary>
    public bool GuardedPreamble { get; private set; }

    public IReadOnlyList<Expectation> Expectations => _expectations;

    public int Count => _expectations.Count;

    public Expectation this[int index] => _expectations[index];

    public void AddPreambleQuery() => PreambleQueries++;

    public void AddGuardedPreambleQuery()
    {
        if (PreambleQueries > 0)
            throw new InvalidOperationException("the guarded preamble query comes first");
        GuardedPreamble = true;
        PreambleQueries += 2;
    }

    public void Add(Expectation expectation)
    {
        _expectations.Add(expectation);
        _outcomes.Add(Outcome.Pending);
    }

    public void Expect(ExpectKind kind, FrontendCode code, byte[]? reply = null, Action<bool>? onCompleted = null)
        => Add(new Expectation(kind, code, reply, null, onCompleted));

    /// <summary>Reader thread: the reply to expectation <paramref name="index"/> is complete.</summary>
    internal void Record(int index, bool succeeded) => _outcomes[index] = succeeded ? Outcome.Succeeded : Outcome.Failed;

    /// <summary>Session, after the reply: runs the callbacks of the expectations that got an outcome, in order.</summary>
    public void ApplyOutcomes()
    {
        for (var i = 0; i < _expectations.Count; i++)
        {
            if (_outcomes[i] != Outcome.Pending && _expectations[i].OnCompleted is { } completed)
                completed(_outcomes[i] == Outcome.Succeeded);
        }
    }

    public void Clear()
    {
        _expectations.Clear();
        _outcomes.Clear();
        PreambleQueries = 0;
        GuardedPreamble = false;
    }
}
