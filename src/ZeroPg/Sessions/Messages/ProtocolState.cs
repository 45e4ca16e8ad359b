using ZeroPg.Protocol;

namespace ZeroPg.Sessions;

/// <summary>Where a client's transaction stands, as the client and as the engine see it.</summary>
internal enum TransactionState : byte
{
    Idle,
    /// <summary>The client's plain BEGIN was answered by ZeroPg and has not reached the engine yet: a transaction on paper only.</summary>
    BeginDeferred,
    InBlock,
    Failed,
    /// <summary>
    /// The client's transaction failed when the engine was restarted to stop its cancelled statement: the
    /// engine has no transaction of this client any more, so a failed one is made at the head of its next
    /// batch (<see cref="EngineStateRestore"/>), and the client's statements meet 25P02 until ROLLBACK, as in Postgres.
    /// </summary>
    FailedDeferred,
}

/// <summary>
/// The protocol state of one client that decides when the shared engine may be given to others:
/// its transaction (<see cref="TransactionState"/>, with the deferred BEGIN as a state of its own),
/// whether the engine holds an extended-query sequence of this client not yet ended by Sync, and whether
/// a COPY FROM STDIN is under way. Whether the messages still held by ZeroPg open or close a sequence is
/// a fact about those messages (<see cref="ClientBatch.SequenceOpenAfter"/>); this class only follows what
/// reached the engine. Owned by the session; read by the engine reader thread never.
/// </summary>
internal sealed class ProtocolState
{
    public TransactionState Transaction { get; private set; } = TransactionState.Idle;

    /// <summary>The engine holds extended-query messages of this client not yet followed by Sync.</summary>
    public bool SequenceOpenInEngine { get; private set; }

    /// <summary>
    /// An error ended the client's extended sequence outside a transaction block, and ZeroPg ended the engine's side of it with
    /// a Sync of its own (<see cref="UnitRunner"/>): the client's messages up to its own Sync are ignored here, as the engine
    /// would have ignored them, and the engine is free for others meanwhile.
    /// </summary>
    public bool ClientSkipsToSync { get; private set; }

    /// <summary>A COPY FROM STDIN is under way: the engine holds a pending call of this client until CopyDone or CopyFail.</summary>
    public bool InCopy { get; private set; }

    /// <summary>The status the client was last told (ReadyForQuery), a deferred BEGIN counting as in a transaction.</summary>
    public TransactionStatus Status => Transaction switch
    {
        TransactionState.Idle => TransactionStatus.Idle,
        TransactionState.Failed or TransactionState.FailedDeferred => TransactionStatus.Failed,
        _ => TransactionStatus.InTransaction,
    };

    /// <summary>The engine may go to another client: nothing of this one is open in it.</summary>
    public bool CanReleaseEngine => Transaction == TransactionState.Idle && !SequenceOpenInEngine && !InCopy;

    /// <summary>A plain BEGIN now may be answered by ZeroPg and sent with the next statement.</summary>
    public bool CanDeferBegin => Transaction == TransactionState.Idle && !SequenceOpenInEngine && !InCopy;

    /// <summary>The engine session holds nothing of this client's (a deferred BEGIN has not reached it).</summary>
    public bool EngineUntouched => (Transaction is TransactionState.Idle or TransactionState.BeginDeferred) && !SequenceOpenInEngine;

    /// <summary>The client's next unit may be handed to the engine behind another's before that one's reply is back.</summary>
    public bool MayPipeline => !SequenceOpenInEngine && !InCopy && Transaction is not (TransactionState.BeginDeferred or TransactionState.FailedDeferred);

    /// <summary>ZeroPg answered a plain BEGIN itself.</summary>
    public void DeferBegin()
    {
        if (!CanDeferBegin)
            throw new InvalidOperationException($"a BEGIN cannot be deferred in state {Transaction}");
        Transaction = TransactionState.BeginDeferred;
    }

    /// <summary>The deferred BEGIN was sent to the engine at the head of a batch.</summary>
    public void BeginSent()
    {
        if (Transaction == TransactionState.BeginDeferred)
            Transaction = TransactionState.InBlock;
    }

    /// <summary>
    /// The batch whose preamble sent the deferred BEGIN (or the failed transaction) was rolled back before any of the client's
    /// statements took effect (<see cref="ReplyRouter.PreambleFailure"/>): the client's transaction is where it was before it.
    /// </summary>
    public void PreambleRolledBack(TransactionState before)
    {
        if (before is TransactionState.BeginDeferred or TransactionState.FailedDeferred or TransactionState.Idle)
            Transaction = before;
        SequenceOpenInEngine = false;
    }

    /// <summary>The failed transaction of <see cref="TransactionState.FailedDeferred"/> was made in the engine at the head of a batch.</summary>
    public void FailedSent()
    {
        if (Transaction == TransactionState.FailedDeferred)
            Transaction = TransactionState.Failed;
    }

    /// <summary>
    /// The engine was restarted to stop this client's cancelled call: nothing of the client is open in it any more.
    /// A transaction the client had open is failed, as the cancel of a statement in it leaves it in Postgres.
    /// </summary>
    public void LostInRestart()
    {
        Transaction = Transaction == TransactionState.Idle ? TransactionState.Idle : TransactionState.FailedDeferred;
        SequenceOpenInEngine = false;
    }

    /// <summary>
    /// A statement of the client's transaction block failed while queued for the engine (its lock_timeout or statement_timeout
    /// ran out): the engine holds nothing of the transaction, which is failed as the error leaves it in Postgres.
    /// </summary>
    public void FailedInQueue() => Transaction = TransactionState.FailedDeferred;

    /// <summary>The engine's last ReadyForQuery for this client's call.</summary>
    public void Ready(TransactionStatus status) => Transaction = status switch
    {
        TransactionStatus.Idle => TransactionState.Idle,
        TransactionStatus.Failed => TransactionState.Failed,
        _ => TransactionState.InBlock,
    };

    /// <summary>Client messages reached the engine; <paramref name="sequenceOpen"/> says whether an extended-query sequence is left open after them.</summary>
    public void Sent(bool sequenceOpen) => SequenceOpenInEngine = sequenceOpen;

    /// <summary>ZeroPg's own Sync ended the engine's side of the client's failed sequence (<see cref="ClientSkipsToSync"/>).</summary>
    public void FailedSequenceEnded()
    {
        SequenceOpenInEngine = false;
        ClientSkipsToSync = true;
    }

    /// <summary>The client's Sync came: it is answered as the engine answers a Sync (<see cref="ClientSkipsToSync"/>).</summary>
    public void ClientSynced() => ClientSkipsToSync = false;

    public void CopyStarted() => InCopy = true;

    public void CopyEnded() => InCopy = false;
}
