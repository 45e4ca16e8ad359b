using System.Buffers.Binary;
using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Replication.Walsender;

/// <summary>The COPY BOTH exchange byte by byte: keepalives asking for a reply when idle, a status update moving the
/// slot, and CopyDone from the client answered with CopyDone, CommandComplete x2, ReadyForQuery.</summary>
[Collection(ServerCollection.Name)]
[Trait("Category", "Slow")]
public class StreamProtocolTests(ServerFixture fixture)
{
    [Fact]
    public async Task Idle_keepalive_asks_for_a_reply_and_its_position_can_be_confirmed()
    {
        await using var c = await fixture.OpenAsync();
        await c.ExecAsync("CREATE TABLE sp_t (id int PRIMARY KEY); CREATE PUBLICATION sp_pub FOR TABLE sp_t");
        await using var raw = await RawProtocolClient.ConnectWithoutStartupAsync(fixture.Server);
        await raw.Bytes(RawProtocolClient.StartupPacket(RawProtocolClient.ProtocolVersion3, "user", "postgres", "database", "postgres", "replication", "database")).FlushAsync();
        Assert.Equal('Z', (await raw.ReadUntilReadyAsync())[^1].Code);
        await raw.Query("CREATE_REPLICATION_SLOT sp_slot LOGICAL pgoutput (SNAPSHOT 'nothing')").FlushAsync();
        Assert.Equal('Z', (await raw.ReadUntilReadyAsync())[^1].Code);

        await raw.Query("START_REPLICATION SLOT sp_slot LOGICAL 0/0 (proto_version '1', publication_names 'sp_pub')").FlushAsync();
        Assert.Equal('W', (await raw.ReadMessageAsync())!.Code);
        RawProtocolClient.Message keepalive;
        do
            keepalive = (await raw.ReadMessageAsync(TimeSpan.FromSeconds(30)))!;
        while (keepalive.Body[0] != (byte)'k');
        Assert.Equal('d', keepalive.Code);
        Assert.Equal(1, keepalive.Body[17]); // reply requested
        var walEnd = BinaryPrimitives.ReadUInt64BigEndian(keepalive.Body.AsSpan(1));
        Assert.True(walEnd > 0);

        var status = new byte[34];
        status[0] = (byte)'r';
        BinaryPrimitives.WriteUInt64BigEndian(status.AsSpan(1), walEnd);
        BinaryPrimitives.WriteUInt64BigEndian(status.AsSpan(9), walEnd);
        BinaryPrimitives.WriteUInt64BigEndian(status.AsSpan(17), walEnd);
        await raw.Bytes(RawProtocolClient.TypedMessage('d', status)).CopyDone().FlushAsync();
        var end = await raw.ReadUntilReadyAsync();
        Assert.Equal("cCCZ", string.Concat(end.SkipWhile(m => m.Code == 'd').Select(m => m.Code)));

        var confirmed = (ulong)(long)(await new NpgsqlCommand(
            "SELECT confirmed_flush_lsn - '0/0' FROM zeropg_repl.slots WHERE slot_name = 'sp_slot'", c).ExecuteScalarAsync() is decimal d ? (long)d : 0);
        Assert.Equal(walEnd, confirmed);
        await raw.Query("DROP_REPLICATION_SLOT sp_slot").FlushAsync();
        Assert.Equal('Z', (await raw.ReadUntilReadyAsync())[^1].Code);
    }
}
