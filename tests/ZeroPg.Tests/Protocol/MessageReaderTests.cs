using System.Buffers;
using ZeroPg.Protocol;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Protocol;

public sealed class MessageReaderTests
{
    private static readonly byte[] Query = RawProtocolClient.TypedMessage('Q', RawProtocolClient.CString("select 1"));
    private static readonly byte[] Sync = RawProtocolClient.TypedMessage('S', []);

    [Fact]
    public void Whole_messages_are_read_and_the_tail_is_kept()
    {
        byte[] data = [.. Query, .. Sync, .. Query[..7]];
        var reader = new MessageReader(data);
        Assert.True(reader.TryRead(out var first));
        Assert.Equal(FrontendCode.Query, first.Frontend);
        Assert.Equal(0, first.Offset);
        Assert.Equal(Query[5..], first.Body.ToArray());
        Assert.True(reader.TryRead(out var second));
        Assert.Equal(FrontendCode.Sync, second.Frontend);
        Assert.Equal(Query.Length, second.Offset);
        Assert.False(reader.TryRead(out _));
        Assert.Equal(Query.Length + Sync.Length, reader.Consumed);
        Assert.Equal(Query[..7], reader.Tail.ToArray());
    }

    [Fact]
    public void Foreach_walks_a_batch_of_whole_messages()
    {
        byte[] data = [.. Sync, .. Query, .. Sync];
        var codes = new List<char>();
        foreach (var message in new MessageReader(data))
            codes.Add((char)message.Code);
        Assert.Equal(['S', 'Q', 'S'], codes);
    }

    [Fact]
    public void Host_frames_count_only_their_payload()
    {
        byte[] data = [(byte)'D', 0, 0, 0, 2, 7, 8, (byte)'Z', 0, 0, 0, 0];
        var reader = new MessageReader(data, LengthWord.PayloadOnly);
        Assert.True(reader.TryRead(out var reply));
        Assert.Equal([7, 8], reply.Body.ToArray());
        Assert.True(reader.TryRead(out var end));
        Assert.Equal(0, end.Body.Length);
        Assert.Equal(data.Length, reader.Consumed);
    }

    [Theory]
    [InlineData(true, 3)]
    [InlineData(true, -1)]
    [InlineData(false, -1)]
    public void A_length_word_below_the_minimum_is_corrupt(bool countsItself, int length)
    {
        var rule = countsItself ? LengthWord.CountsItself : LengthWord.PayloadOnly;
        var data = new byte[5];
        data[0] = (byte)'Z';
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(1), length);
        Assert.True(MessageFramer.WholeLength(data, rule) < MessageFramer.HeaderLength);
        Assert.Throws<InvalidDataException>(() => new MessageReader(data, rule).TryRead(out _));
    }

    [Fact]
    public void A_sequence_gives_up_a_message_only_once_it_is_whole()
    {
        for (var cut = 0; cut <= Query.Length; cut++)
        {
            var buffer = new ReadOnlySequence<byte>(Query.AsMemory(0, cut));
            Assert.Equal(cut == Query.Length, MessageFramer.TryRead(ref buffer, LengthWord.CountsItself, out var message));
            Assert.Equal(cut == Query.Length ? 0 : cut, buffer.Length);
            if (cut == Query.Length)
                Assert.Equal(Query, message.ToArray());
        }
    }
}
