using System.Buffers;
using ZeroPg.Protocol;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Protocol;

public sealed class FrontendFramerTests
{
    private static readonly byte[] SelectOne = RawProtocolClient.TypedMessage('Q', RawProtocolClient.CString("select 1"));

    [Fact]
    public void A_whole_message_is_taken_off_the_front()
    {
        var buffer = new ReadOnlySequence<byte>([.. SelectOne, .. RawProtocolClient.TypedMessage('S', [])]);
        Assert.True(FrontendFramer.TryReadMessage(ref buffer, 1024, out var code, out var message));
        Assert.Equal(FrontendCode.Query, code);
        Assert.Equal(SelectOne, message.ToArray());
        Assert.True(FrontendFramer.TryReadMessage(ref buffer, 1024, out code, out message));
        Assert.Equal(FrontendCode.Sync, code);
        Assert.Equal(5, message.Length);
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void Every_partial_message_waits_for_more()
    {
        for (var length = 0; length < SelectOne.Length; length++)
        {
            var buffer = new ReadOnlySequence<byte>(SelectOne.AsMemory(0, length));
            Assert.False(FrontendFramer.TryReadMessage(ref buffer, 1024, out _, out _));
            Assert.Equal(length, buffer.Length); // nothing consumed
        }
    }

    [Fact]
    public void A_message_spread_over_segments_parses()
    {
        var first = new Segment(SelectOne.AsMemory(0, 3));
        var last = first.Append(SelectOne.AsMemory(3));
        var buffer = new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
        Assert.True(FrontendFramer.TryReadMessage(ref buffer, 1024, out var code, out var message));
        Assert.Equal(FrontendCode.Query, code);
        Assert.Equal(SelectOne, message.ToArray());
    }

    [Theory]
    [InlineData(new byte[] { (byte)'Q', 0, 0, 0, 3 })]
    [InlineData(new byte[] { (byte)'Q', 0xFF, 0xFF, 0xFF, 0xF0 })]
    [InlineData(new byte[] { (byte)'!', 0, 0, 0, 4 })]
    [InlineData(new byte[] { 0, 0, 0, 0, 4 })]
    public void A_bad_header_is_a_protocol_violation(byte[] bytes)
    {
        var buffer = new ReadOnlySequence<byte>(bytes);
        var error = Assert.Throws<PgErrorException>(() => FrontendFramer.TryReadMessage(ref buffer, 1024, out _, out _));
        Assert.Equal("08P01", error.Error.SqlState);
        Assert.True(error.Error.IsFatal);
    }

    [Fact]
    public void A_message_over_the_limit_is_refused()
    {
        var buffer = new ReadOnlySequence<byte>(new byte[] { (byte)'Q', 0, 0, 0x10, 0 });
        var error = Assert.Throws<PgErrorException>(() => FrontendFramer.TryReadMessage(ref buffer, 1024, out _, out _));
        Assert.Equal("54000", error.Error.SqlState);
    }

    [Theory]
    [InlineData((byte)'c', 10_001, true)]
    [InlineData((byte)'f', 10_001, true)]
    [InlineData((byte)'Q', 9, true)]
    [InlineData((byte)'c', 10_001, false)]
    [InlineData((byte)'f', 10_001, false)]
    public void In_copy_in_mode_CopyDone_and_CopyFail_are_small_and_only_copy_messages_are_read(byte code, int length, bool inCopyIn)
    {
        // Outside COPY, Postgres reads (and ignores) CopyDone/CopyFail of any size; inside, it holds them to 10,000 bytes.
        byte[] header = [code, (byte)(length >> 24), (byte)(length >> 16), (byte)(length >> 8), (byte)length];
        var buffer = new ReadOnlySequence<byte>(header);
        if (!inCopyIn)
        {
            Assert.False(FrontendFramer.TryReadMessage(ref buffer, 1 << 20, inCopyIn, out _, out _)); // waits for the body
            return;
        }
        var error = Assert.Throws<PgErrorException>(() => FrontendFramer.TryReadMessage(ref buffer, 1 << 20, inCopyIn, out _, out _));
        Assert.Equal("08P01", error.Error.SqlState);
        Assert.True(error.Error.IsFatal);
    }

    [Fact]
    public void Startup_packets_are_framed_by_their_length()
    {
        var packet = RawProtocolClient.StartupPacket(RawProtocolClient.ProtocolVersion3, "user", "postgres");
        var buffer = new ReadOnlySequence<byte>(packet.AsMemory(0, packet.Length - 1));
        Assert.False(FrontendFramer.TryReadStartupPacket(ref buffer, out _));
        buffer = new ReadOnlySequence<byte>(packet);
        Assert.True(FrontendFramer.TryReadStartupPacket(ref buffer, out var whole));
        Assert.Equal(packet, whole.ToArray());
    }

    [Theory]
    [InlineData(4)]
    [InlineData(7)]
    [InlineData(-1)]
    [InlineData(10_001)]
    public void A_bad_startup_length_is_a_protocol_violation(int length)
    {
        var bytes = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(bytes, length);
        var buffer = new ReadOnlySequence<byte>(bytes);
        var error = Assert.Throws<PgErrorException>(() => FrontendFramer.TryReadStartupPacket(ref buffer, out _));
        Assert.Equal("08P01", error.Error.SqlState);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
