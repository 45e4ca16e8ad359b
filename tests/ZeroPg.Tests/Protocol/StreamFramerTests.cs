using ZeroPg.Protocol;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Protocol;

public sealed class StreamFramerTests
{
    /// <summary>A reply stream: a large DataRow (bigger than the framer's initial carry), small messages, an empty-bodied one.</summary>
    private static readonly byte[][] Messages =
    [
        RawProtocolClient.TypedMessage('T', [0, 1, .. RawProtocolClient.CString("x"), 0, 0, 0, 0, 0, 0, 0, 0, 0, 25, 255, 255, 255, 255, 255, 255, 0, 0]),
        RawProtocolClient.TypedMessage('D', [.. Enumerable.Range(0, 3000).Select(i => (byte)i)]),
        RawProtocolClient.TypedMessage('C', RawProtocolClient.CString("SELECT 1")),
        RawProtocolClient.TypedMessage('I', []),
        RawProtocolClient.TypedMessage('Z', [(byte)'I']),
    ];

    private static readonly byte[] Stream = [.. Messages.SelectMany(m => m)];

    [Fact]
    public void One_chunk_gives_every_message()
    {
        var framer = new StreamFramer();
        var seen = Collect(framer, [Stream]);
        Assert.Equal(Messages, seen);
        Assert.False(framer.HasPartialMessage);
    }

    [Fact]
    public void A_split_at_every_offset_gives_the_same_messages()
    {
        for (var cut = 1; cut < Stream.Length; cut++)
        {
            var framer = new StreamFramer();
            var seen = Collect(framer, [Stream[..cut], Stream[cut..]]);
            Assert.True(Messages.SequenceEqual(seen, ByteArrays.Instance), $"split at {cut}");
            Assert.False(framer.HasPartialMessage);
        }
    }

    [Fact]
    public void Byte_by_byte_chunks_give_the_same_messages()
    {
        var framer = new StreamFramer();
        var seen = Collect(framer, Stream.Select(b => new[] { b }));
        Assert.Equal(Messages, seen);
    }

    [Fact]
    public void Three_way_splits_around_the_headers_give_the_same_messages()
    {
        var random = new Random(7);
        for (var round = 0; round < 500; round++)
        {
            var a = random.Next(1, Stream.Length - 1);
            var b = random.Next(a + 1, Stream.Length);
            var framer = new StreamFramer();
            var seen = Collect(framer, [Stream[..a], Stream[a..b], Stream[b..]]);
            Assert.True(Messages.SequenceEqual(seen, ByteArrays.Instance), $"splits at {a}, {b}");
        }
    }

    [Fact]
    public void Host_frames_count_only_their_payload()
    {
        byte[] frames = [(byte)'D', 0, 0, 0, 3, 1, 2, 3, (byte)'Z', 0, 0, 0, 0];
        var framer = new StreamFramer(LengthWord.PayloadOnly);
        var seen = Collect(framer, [frames[..6], frames[6..]]);
        Assert.Equal([frames[..8], frames[8..]], seen);
    }

    [Fact]
    public void A_length_word_below_its_minimum_is_refused()
    {
        var framer = new StreamFramer();
        Assert.Throws<InvalidDataException>(() => framer.Feed([(byte)'Z', 0, 0, 0, 3, 0], _ => { }));
    }

    [Fact]
    public void A_partial_message_is_reported_and_reset_drops_it()
    {
        var framer = new StreamFramer();
        Assert.Empty(Collect(framer, [Messages[2][..4]]));
        Assert.True(framer.HasPartialMessage);
        framer.Reset();
        Assert.False(framer.HasPartialMessage);
        Assert.Equal([Messages[3]], Collect(framer, [Messages[3]]));
    }

    private static List<byte[]> Collect(StreamFramer framer, IEnumerable<byte[]> chunks)
    {
        var seen = new List<byte[]>();
        foreach (var chunk in chunks)
            framer.Feed(chunk, message => seen.Add(message.Bytes.ToArray()));
        return seen;
    }

    private sealed class ByteArrays : IEqualityComparer<byte[]>
    {
        public static readonly ByteArrays Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj) => obj.Length;
    }
}
