using System.Buffers;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Frontend;
using ZeroPg.Sessions;

namespace ZeroPg.Tests.Sessions;

/// <summary>Accepted client messages, parsed once, and the units they make.</summary>
public sealed class ClientBatchTests
{
    private readonly ClientBatch _batch = new();

    private void Add(FrontendCode code, Action<IBufferWriter<byte>> write, bool endsUnit = false)
    {
        var writer = new ArrayBufferWriter<byte>();
        write(writer);
        _batch.Add(code, new ReadOnlySequence<byte>(writer.WrittenMemory));
        if (endsUnit)
            _batch.EndUnit();
    }

    private void Parse(string name, string sql) => Add(FrontendCode.Parse, w => ParseMessage.Write(w, System.Text.Encoding.UTF8.GetBytes(name), System.Text.Encoding.UTF8.GetBytes(sql), [0, 0]));
    private void Bind(string portal, string name) => Add(FrontendCode.Bind, w => BindMessage.Write(w, System.Text.Encoding.UTF8.GetBytes(portal), System.Text.Encoding.UTF8.GetBytes(name), [0, 0, 0, 0, 0, 0]));
    private void Execute() => Add(FrontendCode.Execute, w => ExecuteMessage.Write(w, [], 0));
    private void Sync() => Add(FrontendCode.Sync, w => EmptyFrontendMessage.Write(w, FrontendCode.Sync), endsUnit: true);
    private void Flush() => Add(FrontendCode.Flush, w => EmptyFrontendMessage.Write(w, FrontendCode.Flush), endsUnit: true);
    private void Query(string sql) => Add(FrontendCode.Query, w => QueryMessage.Write(w, sql), endsUnit: true);

    [Fact]
    public void Messages_are_parsed_once_when_accepted()
    {
        Parse("s1", "select 1 where true");
        Bind("p1", "s1");
        Add(FrontendCode.Describe, w => TargetedMessage.Write(w, FrontendCode.Describe, TargetedMessage.Portal, "p1"u8));
        Add(FrontendCode.Close, w => TargetedMessage.Write(w, FrontendCode.Close, TargetedMessage.Statement, "s1"u8));
        var messages = _batch.Messages;
        Assert.Equal("s1", messages[0].StatementName);
        Assert.True(messages[0].Sql!.IsPipelineSafe);
        Assert.Equal(("p1", "s1", true), (messages[1].PortalName, messages[1].StatementName, messages[1].BindsNoParameters));
        Assert.Equal(("p1", false), (messages[2].PortalName, messages[2].TargetsStatement));
        Assert.Equal(("s1", true), (messages[3].StatementName, messages[3].TargetsStatement));
        Assert.Equal(FrontendCode.Parse, (FrontendCode)_batch.Bytes(messages[0])[0]);
    }

    [Fact]
    public void Units_end_at_sync_query_and_flush_and_each_sync_or_query_asks_for_a_ready()
    {
        Parse("", "select 1");
        Bind("", "");
        Execute();
        Sync();
        Query("select 2");
        Parse("", "select 3");
        Assert.Equal(5, _batch.CompleteCount);
        Assert.Equal(6, _batch.Count);
        Assert.Equal(2, _batch.ReadyCount(_batch.CompleteCount));
    }

    [Fact]
    public void Whether_a_sequence_is_left_open_is_read_from_the_messages()
    {
        Parse("", "select 1");
        Bind("", "");
        Execute();
        Flush();
        Assert.True(_batch.SequenceOpenAfter(_batch.CompleteCount, openBefore: false));
        Sync();
        Assert.False(_batch.SequenceOpenAfter(_batch.CompleteCount, openBefore: true));
        Query("select 1");
        Assert.False(_batch.SequenceOpenAfter(_batch.Count, openBefore: true)); // the Sync before it closed it
        _batch.Consume(_batch.Count - 1);
        Assert.True(_batch.SequenceOpenAfter(1, openBefore: true)); // a Query leaves the engine's sequence as it was
    }

    [Fact]
    public void Consuming_keeps_the_rest_readable()
    {
        Query("select 1");
        Parse("s2", "select 2");
        Sync();
        _batch.Consume(1);
        Assert.Equal(2, _batch.Count);
        Assert.Equal(2, _batch.CompleteCount);
        var parse = ParseMessage.Read(_batch.Bytes(_batch.Messages[0])[5..]);
        Assert.Equal("s2"u8.ToArray(), parse.StatementName.ToArray());
        Assert.Equal(0, _batch.Messages[0].Offset);
    }
}
