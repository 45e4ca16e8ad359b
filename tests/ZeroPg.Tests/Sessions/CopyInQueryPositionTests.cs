using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>
/// COPY FROM STDIN that is not alone in its Query. PGlite dies when a COPY FROM STDIN reaches it without its
/// data in the same call, so these run on a server of their own.
/// </summary>
public sealed class CopyInQueryPositionTests
{
    [Fact]
    public async Task Copy_from_stdin_in_any_position_of_a_query_never_kills_the_engine()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var raw = await RawProtocolClient.ConnectAsync(server);
        await raw.Query("create table pos_copy (id int); insert into pos_copy values (0)").RoundTripAsync();

        // First statement: COPY runs with its data, then the rest of the query.
        await raw.Query("copy pos_copy from stdin; select 'after copy'").FlushAsync();
        Assert.Equal('G', (await raw.ReadMessageAsync())!.Code);
        var first = await raw.CopyData("1\n2\n").CopyDone().RoundTripAsync();
        Assert.Equal("CTDCZ", string.Concat(first.Select(m => m.Code)));
        Assert.Equal("COPY 2\0", first[0].BodyText);

        // Later statement (or a second COPY): either it works as in Postgres, or it is refused, but the engine and its data survive.
        await AssertEngineSurvives(raw, "select 'before copy'; copy pos_copy from stdin", "0,1,2");
        await AssertEngineSurvives(raw, "copy pos_copy from stdin; copy pos_copy from stdin", "0,1,2");
    }

    private static async Task AssertEngineSurvives(RawProtocolClient raw, string sql, string before)
    {
        await raw.Query(sql).FlushAsync();
        var second = new List<RawProtocolClient.Message>();
        while (true)
        {
            var message = await raw.ReadMessageAsync() ?? throw new EndOfStreamException(RawProtocolClient.Describe(second));
            second.Add(message);
            if (message.Code == 'G')
            {
                await raw.CopyData("3\n").CopyDone().FlushAsync();
                continue;
            }
            if (message.Code == 'Z')
                break;
        }
        Assert.True(second.All(m => m.Code != 'E' || m.Field('S') == "ERROR"), RawProtocolClient.Describe(second));
        var expected = second.Any(m => m.Code == 'G') ? before + ",3" : before;

        var check = await raw.Query("select string_agg(id::text, ',' order by id) from pos_copy").RoundTripAsync();
        Assert.True(check.Any(m => m.Code == 'D' && m.BodyText.EndsWith(expected, StringComparison.Ordinal)), RawProtocolClient.Describe(check));
    }
}
