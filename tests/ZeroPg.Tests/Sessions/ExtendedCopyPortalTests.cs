using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>
/// An Execute of a COPY FROM STDIN portal anywhere but right after its Bind (fuzz finding, seed 1: Parse, Bind,
/// Describe P, Execute, Sync made PGlite exit(1), killing the engine for everyone) gets 0A000 and the sequence is
/// skipped to its Sync; the engine lives.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class ExtendedCopyPortalTests(ServerFixture fixture)
{
    public static TheoryData<string> Shapes => new() { "describe between", "flush between", "executed again after its copy" };

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task An_execute_of_a_copy_portal_not_right_after_its_bind_fails_with_0A000_and_the_engine_lives(string shape)
    {
        var engine = fixture.Server.EngineId;
        await using var client = await RawProtocolClient.ConnectAsync(fixture.Server);
        await client.Query("create table if not exists extended_copy_portal_t (a int, b text)").RoundTripAsync();
        client.Parse("s_copy", "copy extended_copy_portal_t from stdin").Bind("p_copy", "s_copy");
        switch (shape)
        {
            case "describe between":
                client.Bytes(RawProtocolClient.TypedMessage('D', [(byte)'P', .. RawProtocolClient.CString("p_copy")])).Execute("p_copy");
                break;
            case "flush between":
                client.Flush().Execute("p_copy");
                break;
            default:
                client.Execute("p_copy").CopyData("1\tx\n").CopyDone().Execute("p_copy");
                break;
        }
        var replies = await client.Sync().RoundTripAsync(TimeSpan.FromSeconds(30));

        var error = Assert.Single(replies, m => m.Code == 'E');
        Assert.Equal("0A000", error.SqlState);
        Assert.Contains("Bind immediately followed by Execute", error.MessageText);
        Assert.Equal("1", (await client.SingleRowAsync("select 1"))[0]);
        Assert.Equal(engine, fixture.Server.EngineId);
    }

    [Fact]
    public async Task Bind_then_execute_still_copies()
    {
        await using var client = await RawProtocolClient.ConnectAsync(fixture.Server);
        await client.Query("create table if not exists extended_copy_portal_ok (a int)").RoundTripAsync();
        var replies = await client.Parse("", "copy extended_copy_portal_ok from stdin").Bind("", "").Execute()
            .CopyData("7\n").CopyDone().Sync().RoundTripAsync(TimeSpan.FromSeconds(30));
        Assert.DoesNotContain(replies, m => m.Code == 'E');
        Assert.Contains(replies, m => m.Code == 'C' && m.BodyText.StartsWith("COPY 1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_copy_after_an_empty_statement_is_a_copy_and_the_engine_lives()
    {
        // Fuzz seed 576665: Parse "; COPY ... FROM STDIN" was not taken for a COPY (its first statement is empty), so its Execute
        // reached the engine without its data, and PGlite exited. Postgres drops the empty statement: it is the COPY, and a Close
        // sent while it waits for data is a protocol violation there as here (08P01, that connection only).
        var engine = fixture.Server.EngineId;
        await using (var fuzzed = await RawProtocolClient.ConnectAsync(fixture.Server))
        {
            await fuzzed.Query("create table if not exists extended_copy_after_empty (a int)").RoundTripAsync();
            await fuzzed.Parse("s_empty_copy", "; copy extended_copy_after_empty from stdin").Bind("p_empty_copy", "s_empty_copy")
                .Execute("p_empty_copy", maxRows: 3).Bytes(RawProtocolClient.TypedMessage('C', [(byte)'P', .. RawProtocolClient.CString("p_empty_copy")]))
                .Sync().FlushAsync();
            var replies = await fuzzed.ReadUntilClosedAsync(TimeSpan.FromSeconds(30));
            Assert.Contains(replies, m => m.Code == 'G'); // the COPY started
            Assert.Equal("08P01", Assert.Single(replies, m => m.Code == 'E').SqlState);
        }
        await using var client = await RawProtocolClient.ConnectAsync(fixture.Server);
        var copied = await client.Parse("", "; copy extended_copy_after_empty from stdin").Bind("", "").Execute()
            .CopyData("7\n").CopyDone().Sync().RoundTripAsync(TimeSpan.FromSeconds(30));
        Assert.Contains(copied, m => m.Code == 'C' && m.BodyText.StartsWith("COPY 1", StringComparison.Ordinal));
        Assert.Equal("1", (await client.SingleRowAsync("select count(*) from extended_copy_after_empty"))[0]);
        Assert.Equal(engine, fixture.Server.EngineId);
    }
}
