namespace ZeroPg.Bench.InProcess;

/// <summary>Where a batch's reply goes: a client (<see cref="IClientConnection"/>), reshaped on its way, or back to the caller.</summary>
internal interface IReplyTarget
{
    /// <summary>Sends the bytes before returning; a client that has gone is ignored.</summary>
    void Send(ReadOnlySpan<byte> bytes);
}

/// <summary>
/// An auto-prepared select's reply, sent as a simple Query's: the extended protocol's BindComplete dropped and the statement's
/// RowDescription first.
/// </summary>
internal sealed class AutoPreparedReply(IReplyTarget client, byte[] rowDescription) : IReplyTarget
{
    private const int BindComplete = 5;

    public void Send(ReadOnlySpan<byte> bytes)
    {
        var reply = new byte[rowDescription.Length + bytes.Length - BindComplete];
        rowDescription.CopyTo(reply, 0);
        bytes[BindComplete..].CopyTo(reply.AsSpan(rowDescription.Length));
        client.Send(reply);
    }
}

/// <summary>A reply the caller waits for (the auto-prepared statement's preparation).</summary>
internal sealed class CapturedReply : IReplyTarget
{
    private readonly TaskCompletionSource<byte[]> _reply = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Send(ReadOnlySpan<byte> bytes) => _reply.SetResult(bytes.ToArray());

    public byte[] Wait() => _reply.Task.GetAwaiter().GetResult();
}
