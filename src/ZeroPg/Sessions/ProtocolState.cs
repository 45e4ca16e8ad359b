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

    /// <summary>A COPY FROM STDIN is under way: the engine holds a pending call of this client until CopyDone or CopyFail.</summary>
    public bool InCopy { get; private set; }

    /// <summary>The status the client was last told (ReadyForQuery), a deferred BEGIN counting as in a transaction.</summary>
    public TransactionStatus Status => Transaction switch
    {
        TransactionState.Idle => TransactionStatus.Idle,
        TransactionState.Failed => TransactionStatus.Failed,
        _ => TransactionStatus.InTransaction,
    };

    /// <summary>The engine may go to another client: nothing of this one is open in it.</summary>
    public bool CanReleaseEngine => Transaction == TransactionState.Idle && !SequenceOpenInEngine && !InCopy;

    /// <summary>A plain BEGIN now may be answered by ZeroPg and sent with the next statement.</summary>
    public bool CanDeferBegin => Transaction == TransactionState.Idle && !SequenceOpenInEngine && !InCopy;

    /// <summary>The engine session holds nothing of this client's (a deferred BEGIN has not reached it).</summary>
    public bool EngineUntouched => (Transaction is TransactionState.Idle or TransactionState.BeginDeferred) && !SequenceOpenInEngine;

    /// <summary>The client's next unit may be handed to the engine behind another's before that one's reply is back.</summary>
    public bool MayPipeline => !SequenceOpenInEngine && !InCopy && Transaction != TransactionState.BeginDeferred;

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

    /// <summary>The engine's last ReadyForQuery for this client's call.</summary>
    public void Ready(TransactionStatus status) => Transaction = status switch
    {
        TransactionStatus.Idle => TransactionState.Idle,
        TransactionStatus.Failed => TransactionState.Failed,
        _ => TransactionState.InBlock,
    };

    /// <summary>Client messages reached the engine; <paramref name="sequenceOpen"/> says whether an extended-query sequence is left open after them.</summary>
    public void Sent(bool sequenceOpen) => SequenceOpenInEngine = sequenceOpen;

    public void CopyStarted() => InCopy = true;

    public void CopyEnded() => InCopy = false;
}
