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
        await using var raw = await RawPgClient.ConnectAsync(server);
        await raw.StartupAsync();
        await raw.SendAsync(RawPgClient.Query("create table pos_copy (id int); insert into pos_copy values (0)"));
        await raw.ReadUntilReadyAsync();

        // First statement: COPY runs with its data, then the rest of the query.
        await raw.SendAsync(RawPgClient.Query("copy pos_copy from stdin; select 'after copy'"));
        Assert.Equal('G', (await raw.ReadMessageAsync())!.Code);
        await raw.SendAsync([.. RawPgClient.TypedMessage('d', "1\n2\n"u8.ToArray()), .. RawPgClient.TypedMessage('c', [])]);
        var first = await raw.ReadUntilReadyAsync();
        Assert.Equal("CTDCZ", string.Concat(first.Select(m => m.Code)));
        Assert.Equal("COPY 2\0", first[0].Text);

        // Later statement (or a second COPY): either it works as in Postgres, or it is refused, but the engine and its data survive.
        await AssertEngineSurvives(raw, "select 'before copy'; copy pos_copy from stdin", "0,1,2");
        await AssertEngineSurvives(raw, "copy pos_copy from stdin; copy pos_copy from stdin", "0,1,2");
    }

    private static async Task AssertEngineSurvives(RawPgClient raw, string sql, string before)
    {
        await raw.SendAsync(RawPgClient.Query(sql));
        var second = new List<RawPgClient.Message>();
        while (true)
        {
            var message = await raw.ReadMessageAsync() ?? throw new EndOfStreamException(RawPgClient.Describe(second));
            second.Add(message);
            if (message.Code == 'G')
            {
                await raw.SendAsync([.. RawPgClient.TypedMessage('d', "3\n"u8.ToArray()), .. RawPgClient.TypedMessage('c', [])]);
                continue;
            }
            if (message.Code == 'Z')
                break;
        }
        Assert.True(second.All(m => m.Code != 'E' || m.Field('S') == "ERROR"), RawPgClient.Describe(second) + string.Join(" ", second));
        var expected = second.Any(m => m.Code == 'G') ? before + ",3" : before;

        await raw.SendAsync(RawPgClient.Query("select string_agg(id::text, ',' order by id) from pos_copy"));
        var check = await raw.ReadUntilReadyAsync();
        Assert.True(check.Any(m => m.Code == 'D' && m.Text.EndsWith(expected, StringComparison.Ordinal)), string.Join(" ", check));
    }
}
