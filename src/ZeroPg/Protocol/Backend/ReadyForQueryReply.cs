namespace ZeroPg.Protocol.Backend;

/// <summary>A ReadyForQuery ('Z'): the transaction status it reports, read from the whole message.</summary>
internal readonly record struct ReadyForQueryReply(TransactionStatus Status)
{
    public static ReadyForQueryReply Parse(ReadOnlySpan<byte> message) => new((TransactionStatus)message[MessageFramer.HeaderLength]);
}
