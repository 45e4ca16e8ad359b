using System.Buffers.Binary;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>
/// COPY-mode framing as Postgres's CopyGetData reads it: CopyDone and CopyFail over the small-message limit, and any
/// message other than CopyData/CopyDone/CopyFail/Flush/Sync, end that client's connection with 08P01 and roll its
/// COPY back. The engine never sees them: an oversized CopyDone or CopyFail made PGlite exit(1) (found by an outside
/// fuzzer), restarting the engine and losing every client's memory:// data.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class CopyModeFramingTests(ServerFixture fixture)
{
    public static TheoryData<string, bool> Cases => new()
    {
        { "CopyDone with a 12,002-byte body", false },
        { "CopyFail of 20,010 bytes after a row", true },
        { "Query during COPY", true },
        { "Parse during COPY", false },
        { "CopyDone announced at 150 MB", true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_message_copy_mode_refuses_ends_only_that_client_with_08P01_and_rolls_the_copy_back(string what, bool rowFirst)
    {
        var engine = fixture.Server.EngineId;
        var table = "copy_framing_" + Math.Abs(what.GetHashCode()) % 100_000;
        await using var other = await RawProtocolClient.ConnectAsync(fixture.Server);
        await other.Query($"drop table if exists {table}; create table {table} (id int)").RoundTripAsync();
        await other.Query($"insert into {table} values (0)").RoundTripAsync();

        await using (var client = await RawProtocolClient.ConnectAsync(fixture.Server))
        {
            var started = await StartCopyAsync(client, $"copy {table} from stdin");
            Assert.Equal('G', started.Code);
            if (rowFirst)
                client.CopyData("1\n");
            client.Bytes(Offending(what));
            await client.FlushAsync();
            var replies = await client.ReadUntilClosedAsync(TimeSpan.FromSeconds(30));
            var error = Assert.Single(replies, m => m.Code == 'E');
            Assert.Equal("08P01", error.SqlState);
            Assert.Equal("FATAL", error.Field('S'));
        }

        Assert.Equal(engine, fixture.Server.EngineId);
        // The other client's committed row is there and the COPY's row is not: the COPY was rolled back, the engine lives.
        await Eventually.WaitUntilAsync(async () => (await other.SingleRowAsync($"select string_agg(id::text, ',') from {table}"))[0] == "0",
            "the refused COPY's rows rolled back", TimeSpan.FromSeconds(10));
        Assert.Equal(engine, fixture.Server.EngineId);
    }

    [Fact]
    public async Task A_CopyDone_with_a_small_body_completes_the_copy_as_Postgres_does()
    {
        await using var client = await RawProtocolClient.ConnectAsync(fixture.Server);
        await client.Query("drop table if exists copy_framing_small_done; create table copy_framing_small_done (id int)").RoundTripAsync();
        Assert.Equal('G', (await StartCopyAsync(client, "copy copy_framing_small_done from stdin")).Code);
        var replies = await client.CopyData("5\n").Bytes(RawProtocolClient.TypedMessage('c', [1, 2, 3])).RoundTripAsync(TimeSpan.FromSeconds(30));
        Assert.Contains(replies, m => m.Code == 'C' && m.BodyText.StartsWith("COPY 1", StringComparison.Ordinal));
        Assert.Equal("5", (await client.SingleRowAsync("select string_agg(id::text, ',') from copy_framing_small_done"))[0]);
    }

    [Fact]
    public async Task A_CopyFail_with_a_reason_near_the_limit_fails_the_copy_with_57014_and_the_session_goes_on()
    {
        await using var client = await RawProtocolClient.ConnectAsync(fixture.Server);
        await client.Query("drop table if exists copy_framing_fail; create table copy_framing_fail (id int)").RoundTripAsync();
        Assert.Equal('G', (await StartCopyAsync(client, "copy copy_framing_fail from stdin")).Code);
        var replies = await client.CopyData("5\n").CopyFail(new string('x', 9_990)).RoundTripAsync(TimeSpan.FromSeconds(30));
        var error = Assert.Single(replies, m => m.Code == 'E');
        Assert.Equal("57014", error.SqlState);
        Assert.Equal("0", (await client.SingleRowAsync("select count(*) from copy_framing_fail"))[0]);
    }

    private static async Task<RawProtocolClient.Message> StartCopyAsync(RawProtocolClient client, string sql)
    {
        await client.Query(sql).FlushAsync();
        return (await client.ReadMessageAsync())!;
    }

    private static byte[] Offending(string what) => what switch
    {
        "CopyDone with a 12,002-byte body" => RawProtocolClient.TypedMessage('c', new byte[12_002]),
        "CopyFail of 20,010 bytes after a row" => RawProtocolClient.TypedMessage('f', [.. new byte[20_009].Select(_ => (byte)'x'), 0]),
        "Query during COPY" => RawProtocolClient.TypedMessage('Q', RawProtocolClient.CString("select 1")),
        "Parse during COPY" => RawProtocolClient.TypedMessage('P', [0, .. RawProtocolClient.CString("select 1"), 0, 0]),
        _ => Header('c', 150_000_000),
    };

    private static byte[] Header(char code, int length)
    {
        var header = new byte[5];
        header[0] = (byte)code;
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(1), length);
        return header;
    }
}
