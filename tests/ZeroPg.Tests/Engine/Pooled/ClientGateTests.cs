using ZeroPg.Engine.Pooled;

namespace ZeroPg.Tests.Engine.Pooled;

public sealed class ClientGateTests
{
    [Fact]
    public Task The_next_waiter_goes_on_inside_release_on_the_releasing_thread()
        // Off xunit's SynchronizationContext, as on Kestrel's threads: .NET does not run continuations inline under a context.
        => Task.Run(WaiterGoesOnInsideReleaseAsync);

    private static async Task WaiterGoesOnInsideReleaseAsync()
    {
        var gate = new ClientGate();
        await gate.WaitAsync();
        int? ranOn = null;
        async Task Waiter()
        {
            await gate.WaitAsync().ConfigureAwait(false);
            ranOn = Environment.CurrentManagedThreadId;
            gate.Release();
        }
        var waiter = Waiter();
        Assert.Null(ranOn); // the gate is held: the waiter waits
        gate.Release();
        Assert.Equal(Environment.CurrentManagedThreadId, ranOn); // it held the gate and let it go before Release returned
        await waiter;
        Assert.True(gate.WaitAsync().IsCompletedSuccessfully); // free again
    }

    [Fact]
    public async Task A_cancelled_waiter_is_skipped_and_the_gate_goes_to_the_next()
    {
        var gate = new ClientGate();
        await gate.WaitAsync();
        using var cancel = new CancellationTokenSource();
        var cancelled = gate.WaitAsync(cancel.Token);
        var next = gate.WaitAsync();
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.False(next.IsCompleted);
        gate.Release();
        Assert.True(next.IsCompletedSuccessfully);
        var third = gate.WaitAsync();
        Assert.False(third.IsCompleted); // next holds it
        gate.Release();
        Assert.True(third.IsCompletedSuccessfully);
    }
}
