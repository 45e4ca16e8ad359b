using System.Buffers.Binary;
using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Server;

/// <summary>Exact protocol bytes on a raw socket: broken messages, SSLRequest, CancelRequest.</summary>
[Collection(ServerCollection.Name)]
public sealed class RawWireTests(ServerFixture fixture)
{
    public static TheoryData<string, byte[]> Garbage => new()
    {
        { "unknown message type", [(byte)'!', 0, 0, 0, 8, 1, 2, 3, 4] },
        { "negative length", [(byte)'Q', 0xFF, 0xFF, 0xFF, 0xFE] },
        { "length below 4", [(byte)'Q', 0, 0, 0, 2] },
        { "startup-style packet after startup", RawProtocolClient.StartupPacket(RawProtocolClient.ProtocolVersion3, "user", "postgres") },
        // Once wedged every client: a Flush with a body went to the engine, whose error the reply plan never expected.
        { "Flush with a body", [(byte)'H', 0, 0, 0, 5, 0xA6] },
        { "Sync with trailing bytes", [(byte)'S', 0, 0, 0, 8, 1, 2, 3, 4] },
        // Refused from the header alone (Postgres's 10,000-byte limit for small messages): the body is never sent
        // here, so a server that buffered it first would wait instead of closing. Once made the engine spin until it died.
        { "Execute announced above the small-message limit", [(byte)'E', 0, 0, 0x27, 0x15] },
        { "Sync announced at 150 MB", [(byte)'S', 0x08, 0xF0, 0xD1, 0x80] },
    };

    [Theory]
    [MemberData(nameof(Garbage))]
    public async Task A_malformed_message_gets_08P01_then_the_connection_closes(string what, byte[] bytes)
    {
        await using (var raw = await RawProtocolClient.ConnectAsync(fixture.Server))
        {
            await raw.Bytes(bytes).FlushAsync();
            var reply = await raw.ReadUntilClosedAsync();
            var error = Assert.Single(reply);
            Assert.Equal('E', error.Code);
            Assert.Equal("08P01", error.SqlState);
            Assert.Equal("FATAL", error.Field('S'));
            Assert.Contains("08P01", error.BodyText);
            _ = what;
        }
        await AssertServerServes();
    }

    [Fact]
    public async Task A_malformed_message_inside_an_open_transaction_rolls_it_back()
    {
        await using var setup = await fixture.OpenAsync();
        await using (var create = new NpgsqlCommand("create table raw_tx (id int)", setup))
            await create.ExecuteNonQueryAsync();
        await using (var raw = await RawProtocolClient.ConnectAsync(fixture.Server))
        {
            var ready = (await raw.Query("begin; insert into raw_tx values (1)").RoundTripAsync())[^1];
            Assert.Equal((byte)'T', ready.Body[0]);
            await raw.Bytes([(byte)'Q', 0, 0, 0, 1]).FlushAsync();
            Assert.Equal("08P01", (await raw.ReadUntilClosedAsync()).Single().SqlState);
        }
        await using var count = new NpgsqlCommand("select count(*) from raw_tx", setup) { CommandTimeout = 10 };
        Assert.Equal(0L, await count.ExecuteScalarAsync());
    }

    [Theory]
    [InlineData(3)]
    [InlineData(-8)]
    [InlineData(1_000_000)]
    public async Task A_bad_startup_packet_length_gets_08P01(int length)
    {
        await using (var raw = await RawProtocolClient.ConnectWithoutStartupAsync(fixture.Server))
        {
            var packet = new byte[8];
            BinaryPrimitives.WriteInt32BigEndian(packet, length);
            BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(4), RawProtocolClient.ProtocolVersion3);
            await raw.Bytes(packet).FlushAsync();
            var error = Assert.Single(await raw.ReadUntilClosedAsync());
            Assert.Equal("08P01", error.SqlState);
        }
        await AssertServerServes();
    }

    [Fact]
    public async Task A_connection_closed_in_the_middle_of_a_message_does_not_hurt_the_server()
    {
        await using (var raw = await RawProtocolClient.ConnectAsync(fixture.Server))
        {
            var query = RawProtocolClient.TypedMessage('Q', RawProtocolClient.CString("select 1"));
            await raw.Bytes(query[..6]).FlushAsync();
        }
        await AssertServerServes();
    }

    [Fact]
    public async Task SslRequest_is_answered_N_and_startup_continues_on_the_same_socket()
    {
        await using var raw = await RawProtocolClient.ConnectWithoutStartupAsync(fixture.Server);
        await raw.SslRequest().FlushAsync();
        Assert.Equal((byte)'N', await raw.ReadByteAsync());
        var startup = await raw.StartupAsync();
        Assert.Equal('R', startup[0].Code);
        Assert.Equal(0, BinaryPrimitives.ReadInt32BigEndian(startup[0].Body));
        Assert.Contains(startup, m => m.Code == 'K');
        var reply = await raw.Query("select 'ssl-less'").RoundTripAsync();
        Assert.Contains(reply, m => m.Code == 'D' && m.BodyText.Contains("ssl-less", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Npgsql_with_ssl_preferred_falls_back_to_plain_text()
    {
        await using var connection = await fixture.OpenAsync("SSL Mode=Prefer");
        await using var command = new NpgsqlCommand("select 1", connection);
        Assert.Equal(1, await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_CancelRequest_closes_its_socket_without_a_reply()
    {
        await using (var raw = await RawProtocolClient.ConnectWithoutStartupAsync(fixture.Server))
        {
            var key = new byte[8];
            BinaryPrimitives.WriteInt32BigEndian(key, 12345);
            BinaryPrimitives.WriteInt32BigEndian(key.AsSpan(4), 67890);
            await raw.CancelRequest(key).FlushAsync();
            Assert.Empty(await raw.ReadUntilClosedAsync());
        }
        await AssertServerServes();
    }

    [Fact]
    public async Task A_CancelRequest_with_a_real_key_leaves_an_idle_session_usable()
    {
        await using var session = await RawProtocolClient.ConnectAsync(fixture.Server);
        await using (var cancel = await RawProtocolClient.ConnectWithoutStartupAsync(fixture.Server))
        {
            await cancel.CancelRequest(session.BackendKey).FlushAsync();
            Assert.Empty(await cancel.ReadUntilClosedAsync());
        }
        // Nothing was running: Postgres ignores the cancel, and the next statement must not be cancelled by it,
        // even when it has to queue for the engine behind another client's transaction.
        await using var holder = await fixture.OpenAsync();
        await using var transaction = await holder.BeginTransactionAsync();
        await using (var hold = new NpgsqlCommand("select 1", holder))
            await hold.ExecuteNonQueryAsync();
        await session.Query("select 7").FlushAsync();
        var replyTask = session.ReadUntilReadyAsync();
        await Eventually.QueuedAsync(fixture.Server);
        await transaction.CommitAsync();
        var reply = await replyTask;
        Assert.True(!reply.Any(m => m.Code == 'E'), RawProtocolClient.Describe(reply));
        Assert.True(reply.Any(m => m.Code == 'D'), RawProtocolClient.Describe(reply));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_CancelRequest_cancels_a_statement_queued_for_the_engine(bool waitForClose)
    {
        await using var session = await RawProtocolClient.ConnectAsync(fixture.Server);
        await using var holder = await fixture.OpenAsync();
        await using var transaction = await holder.BeginTransactionAsync();
        await using (var hold = new NpgsqlCommand("select 1", holder))
            await hold.ExecuteNonQueryAsync();
        await session.Query("select 7").FlushAsync();
        var replyTask = session.ReadUntilReadyAsync();
        // A cancel that comes before the statement waits is ignored (as in Postgres): send it once the statement is queued.
        await Eventually.QueuedAsync(fixture.Server);
        await using (var cancel = await RawProtocolClient.ConnectWithoutStartupAsync(fixture.Server))
        {
            await cancel.CancelRequest(session.BackendKey).FlushAsync();
            if (waitForClose) // as libpq and Npgsql do; a client may also just send and close
                Assert.Empty(await cancel.ReadUntilClosedAsync());
        }
        try
        {
            var reply = await replyTask.WaitAsync(TimeSpan.FromSeconds(5));
            Assert.Equal("EZ", string.Concat(reply.Select(m => m.Code)));
            Assert.Equal("57014", reply[0].SqlState);
        }
        finally
        {
            await transaction.CommitAsync();
        }
        Assert.Equal("TDCZ", string.Concat((await session.Query("select 8").RoundTripAsync()).Select(m => m.Code)));
    }

    [Fact]
    public async Task A_parse_may_declare_more_than_32767_parameter_types()
    {
        // Postgres reads the count as unsigned 16 bits; ZeroPg once read it signed and closed the connection.
        await using var raw = await RawProtocolClient.ConnectAsync(fixture.Server);
        var types = Enumerable.Repeat(23u, 40_000).ToArray(); // int4 each (an unused parameter must still have a type)
        var reply = await raw.Parse("", "select $1 + 1", types).DescribeStatement("").Sync().RoundTripAsync();
        Assert.Equal(['1', 't', 'T', 'Z'], reply.Select(m => m.Code));
        Assert.Equal(40_000, BinaryPrimitives.ReadInt16BigEndian(reply[1].Body) & 0xFFFF);
    }

    private async Task AssertServerServes()
    {
        await using var connection = await fixture.OpenAsync();
        await using var command = new NpgsqlCommand("select 'still up'", connection);
        Assert.Equal("still up", await command.ExecuteScalarAsync());
    }
}
