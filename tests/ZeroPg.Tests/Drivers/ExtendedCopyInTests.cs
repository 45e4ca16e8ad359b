using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Drivers;

/// <summary>
/// Issue 11 item 4 at the protocol level: COPY FROM STDIN through the extended protocol, as tokio-postgres sends it
/// (Parse, Bind, Execute; the server flushes BindComplete and CopyInResponse; then CopyData, CopyDone, Sync). Each case
/// runs on native PostgreSQL 15 and on ZeroPg and compares the replies.
/// </summary>
[Collection(DriverCollection.Name)]
public sealed class ExtendedCopyInTests(DriverFixture fixture)
{
    [Theory]
    [InlineData("postgres", false)]
    [InlineData("postgres", true)]
    [InlineData("zeropg", false)]
    [InlineData("zeropg", true)]
    public async Task Copy_from_stdin_through_bind_and_execute(string target, bool inTransaction)
    {
        await using var client = await ConnectAsync(target);
        var table = $"ext_copy_{target}_{inTransaction}".ToLowerInvariant();
        AssertOk(await client.Query($"drop table if exists {table}; create table {table} (id int, name text)").RoundTripAsync());
        if (inTransaction)
            AssertOk(await client.Query("begin").RoundTripAsync());

        await client.Parse("copier", $"copy {table} from stdin").Bind("", "copier").Execute().FlushAsync();
        Assert.Equal("12G", await CodesUntilAsync(client, 'G'));
        var replies = await client.CopyData("1\tzß€😀\n").CopyData("2\tb\n").CopyDone().Sync().RoundTripAsync();
        Assert.Equal("CZ", Codes(replies));
        Assert.Equal("COPY 2\0", replies[0].BodyText);
        Assert.Equal(inTransaction ? 'T' : 'I', (char)replies[^1].Body[0]);

        // The statement runs again, from a new portal.
        await client.Bind("", "copier").Execute().FlushAsync();
        Assert.Equal("2G", await CodesUntilAsync(client, 'G'));
        Assert.Equal("CZ", Codes(await client.CopyData("3\tc\n").CopyDone().Sync().RoundTripAsync()));
        if (inTransaction)
            AssertOk(await client.Query("commit").RoundTripAsync());

        var rows = (await client.Query($"select id, name from {table} order by id").RoundTripAsync()).Where(m => m.Code == 'D').Select(m => string.Join(" ", m.Columns()));
        Assert.Equal(["1 zß€😀", "2 b", "3 c"], rows);
        AssertOk(await client.Query($"drop table {table}").RoundTripAsync());
    }

    [Theory]
    [InlineData("postgres", false)]
    [InlineData("postgres", true)]
    [InlineData("zeropg", false)]
    [InlineData("zeropg", true)]
    public async Task Copy_from_stdin_into_a_missing_table_fails_at_execute(string target, bool inTransaction)
    {
        await using var client = await ConnectAsync(target);
        if (inTransaction)
            AssertOk(await client.Query("begin").RoundTripAsync());
        var replies = await client.Parse("", "copy no_such_table_ext from stdin").Bind("", "").Execute().Sync().RoundTripAsync();
        Assert.Equal("12EZ", Codes(replies));
        Assert.Equal("42P01", replies.Single(m => m.Code == 'E').SqlState);
        Assert.Equal(inTransaction ? 'E' : 'I', (char)replies[^1].Body[0]);
        if (inTransaction)
            AssertOk(await client.Query("rollback").RoundTripAsync());
        Assert.Equal("1", (await client.SingleRowAsync("select 1"))[0]);
    }

    private async Task<RawProtocolClient> ConnectAsync(string target) => target switch
    {
        "postgres" => await RawProtocolClient.ConnectAsync("127.0.0.1", (await fixture.Native).Port),
        "zeropg" => await RawProtocolClient.ConnectAsync(fixture.ZeroPg),
        _ => throw new ArgumentOutOfRangeException(nameof(target)),
    };

    private static async Task<string> CodesUntilAsync(RawProtocolClient client, char last)
    {
        var codes = "";
        while (!codes.EndsWith(last))
        {
            var message = await client.ReadMessageAsync(TimeSpan.FromSeconds(30)) ?? throw new InvalidOperationException($"connection closed after {codes}");
            codes += message.Code;
            if (message.Code is 'E' or 'Z')
                break;
        }
        return codes;
    }

    private static string Codes(List<RawProtocolClient.Message> replies) => new(replies.Select(m => m.Code).ToArray());

    private static void AssertOk(List<RawProtocolClient.Message> replies) =>
        Assert.True(replies.All(m => m.Code != 'E'), RawProtocolClient.Describe(replies));
}
