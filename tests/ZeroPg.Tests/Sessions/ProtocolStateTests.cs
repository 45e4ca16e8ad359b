using ZeroPg.Protocol;
using ZeroPg.Sessions;

namespace ZeroPg.Tests.Sessions;

/// <summary>The one state machine deciding when the shared engine may go to another client.</summary>
public sealed class ProtocolStateTests
{
    [Fact]
    public void A_new_client_is_idle_and_may_release_the_engine()
    {
        var state = new ProtocolState();
        Assert.Equal(TransactionStatus.Idle, state.Status);
        Assert.True(state.CanReleaseEngine);
        Assert.True(state.CanDeferBegin);
        Assert.True(state.EngineUntouched);
        Assert.True(state.MayPipeline);
    }

    [Fact]
    public void A_deferred_begin_is_a_transaction_on_paper_until_it_is_sent()
    {
        var state = new ProtocolState();
        state.DeferBegin();
        Assert.Equal(TransactionState.BeginDeferred, state.Transaction);
        Assert.Equal(TransactionStatus.InTransaction, state.Status);
        Assert.True(state.EngineUntouched); // Parse-only units may still be answered locally
        Assert.False(state.CanReleaseEngine);
        Assert.False(state.CanDeferBegin);
        Assert.False(state.MayPipeline);
        state.BeginSent();
        Assert.Equal(TransactionState.InBlock, state.Transaction);
        Assert.False(state.EngineUntouched);
        Assert.True(state.MayPipeline);
        Assert.Throws<InvalidOperationException>(state.DeferBegin);
    }

    [Theory]
    [InlineData('I', TransactionState.Idle)]
    [InlineData('T', TransactionState.InBlock)]
    [InlineData('E', TransactionState.Failed)]
    public void ReadyForQuery_sets_the_transaction(char status, object expected)
    {
        var state = new ProtocolState();
        state.DeferBegin();
        state.BeginSent();
        state.Ready((TransactionStatus)status);
        Assert.Equal((TransactionState)expected, state.Transaction);
        Assert.Equal(status == 'I', state.CanReleaseEngine);
    }

    [Fact]
    public void An_open_sequence_or_a_copy_keeps_the_engine()
    {
        var state = new ProtocolState();
        state.Sent(sequenceOpen: true);
        Assert.False(state.CanReleaseEngine);
        Assert.False(state.CanDeferBegin);
        Assert.False(state.EngineUntouched);
        Assert.False(state.MayPipeline);
        state.Sent(sequenceOpen: false);
        state.CopyStarted();
        Assert.False(state.CanReleaseEngine);
        Assert.False(state.MayPipeline);
        state.CopyEnded();
        Assert.True(state.CanReleaseEngine);
    }
}
