using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>
/// Which statement a Bind binds, when a Parse before it did not make the statement it names: ZeroPg must know the engine's
/// statement is a COPY FROM STDIN wherever it is one. An Execute it took for anything else reached the engine without its data,
/// PGlite waited in COPY FROM STDIN, and the next Query of the batch killed the engine for every client (fuzz seed 494657: FATAL
/// 08P01 "unexpected message type 0x51 during COPY from stdin"). Each Parse, Bind and Query below is sent in one write, so that
/// they are in one batch of the session's, as the fuzzer's were.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class StatementCopyIdentityTests(ServerFixture fixture)
{
    [Fact]
    public async Task A_duplicate_parse_leaves_its_name_a_copy_whose_execute_after_a_describe_is_refused()
    {
        var engine = fixture.Server.EngineId;
        await using var client = await ClientWithCopyAsync("statement_copy_dup", "s_dup");

        await client.Parse("s_dup", "select 1").Sync()
            .Bind("p_dup", "s_dup").DescribeStatement("s_dup").Execute("p_dup").Sync()
            .Query("select 2").FlushAsync();

        Assert.Equal("42P05", Assert.Single(await client.ReadUntilReadyAsync(), m => m.Code == 'E').SqlState);
        var refused = await client.ReadUntilReadyAsync();
        Assert.Equal("0A000", Assert.Single(refused, m => m.Code == 'E').SqlState);
        Assert.DoesNotContain(refused, m => m.Code == 'G');
        Assert.Equal("2", Assert.Single(await client.ReadUntilReadyAsync(), m => m.Code == 'D').Columns()[0]);
        Assert.Equal(engine, fixture.Server.EngineId);
    }

    [Fact]
    public async Task A_duplicate_parse_leaves_its_name_a_copy_that_takes_its_data()
    {
        var engine = fixture.Server.EngineId;
        await using var client = await ClientWithCopyAsync("statement_copy_dup_data", "s_dup_data");

        await client.Parse("s_dup_data", "select 1").Sync()
            .Bind("p_dup_data", "s_dup_data").Execute("p_dup_data").CopyData("7\n").CopyDone().Sync()
            .Query("select count(*) from statement_copy_dup_data").FlushAsync();

        Assert.Equal("42P05", Assert.Single(await client.ReadUntilReadyAsync(), m => m.Code == 'E').SqlState);
        var copied = await client.ReadUntilReadyAsync();
        Assert.DoesNotContain(copied, m => m.Code == 'E');
        Assert.Contains(copied, m => m.Code == 'C' && m.BodyText.StartsWith("COPY 1", StringComparison.Ordinal));
        Assert.Equal("1", Assert.Single(await client.ReadUntilReadyAsync(), m => m.Code == 'D').Columns()[0]);
        Assert.Equal(engine, fixture.Server.EngineId);
    }

    [Fact]
    public async Task An_unnamed_parse_skipped_after_an_error_does_not_leave_the_copy_before_it_bound_in_the_same_batch()
    {
        var engine = fixture.Server.EngineId;
        await using var client = await ClientWithCopyAsync("statement_copy_skipped", "");

        // The named Parse fails, so the engine skips the unnamed one to the Sync: its unnamed statement is still the COPY.
        await client.Parse("s_bad_skipped", "select from where").Parse("", "select 1").Sync()
            .Bind("", "").Execute().Sync()
            .Query("select 2").FlushAsync();

        Assert.Equal("42601", Assert.Single(await client.ReadUntilReadyAsync(), m => m.Code == 'E').SqlState);
        var executed = await client.ReadUntilReadyAsync();
        Assert.DoesNotContain(executed, m => m.Code is 'G' or 'E');
        Assert.Equal("1", Assert.Single(executed, m => m.Code == 'D').Columns()[0]); // the client's own last Parse, parsed again
        Assert.Equal("2", Assert.Single(await client.ReadUntilReadyAsync(), m => m.Code == 'D').Columns()[0]);
        Assert.Equal(engine, fixture.Server.EngineId);
    }

    [Fact]
    public async Task An_unnamed_parse_skipped_after_an_error_leaves_no_statement_to_bind_later()
    {
        var engine = fixture.Server.EngineId;
        await using var client = await ClientWithCopyAsync("statement_copy_skipped_later", "");
        var failed = await client.Parse("s_bad_later", "select from where").Parse("", "select 1").Sync().RoundTripAsync();
        Assert.Equal("42601", Assert.Single(failed, m => m.Code == 'E').SqlState);

        await client.Bind("", "").Execute().Sync().Query("select 2").FlushAsync();

        var executed = await client.ReadUntilReadyAsync();
        Assert.DoesNotContain(executed, m => m.Code == 'G');
        Assert.Equal("26000", Assert.Single(executed, m => m.Code == 'E').SqlState);
        Assert.Equal("2", Assert.Single(await client.ReadUntilReadyAsync(), m => m.Code == 'D').Columns()[0]);
        Assert.Equal(engine, fixture.Server.EngineId);
    }

    [Fact]
    public async Task An_unnamed_parse_zeropg_refuses_leaves_no_statement_to_bind()
    {
        var engine = fixture.Server.EngineId;
        await using var client = await ClientWithCopyAsync("statement_copy_refused", "");

        await client.Parse("", "select pg_ls_dir('.')").Sync()
            .Bind("", "").Execute().Sync()
            .Query("select 2").FlushAsync();

        Assert.Equal("42501", Assert.Single(await client.ReadUntilReadyAsync(), m => m.Code == 'E').SqlState);
        var executed = await client.ReadUntilReadyAsync();
        Assert.DoesNotContain(executed, m => m.Code == 'G');
        Assert.Equal("26000", Assert.Single(executed, m => m.Code == 'E').SqlState);
        Assert.Equal("2", Assert.Single(await client.ReadUntilReadyAsync(), m => m.Code == 'D').Columns()[0]);
        Assert.Equal(engine, fixture.Server.EngineId);
    }

    [Fact]
    public async Task A_parse_after_deallocate_all_in_the_same_batch_makes_a_copy_that_takes_its_data()
    {
        var engine = fixture.Server.EngineId;
        await using var client = await RawProtocolClient.ConnectAsync(fixture.Server);
        await client.Query("create table if not exists statement_copy_dealloc (a int)").RoundTripAsync();
        await client.Parse("s_dealloc", "select 1").Sync().RoundTripAsync();

        // DEALLOCATE ALL drops s_dealloc, so the Parse after it makes the COPY (a 42P05 only without the DEALLOCATE).
        await client.Query("deallocate all").Parse("s_dealloc", "copy statement_copy_dealloc from stdin").Sync()
            .Bind("p_dealloc", "s_dealloc").Execute("p_dealloc").CopyData("7\n").CopyDone().Sync()
            .Query("select count(*) from statement_copy_dealloc").FlushAsync();

        Assert.DoesNotContain(await client.ReadUntilReadyAsync(), m => m.Code == 'E'); // DEALLOCATE ALL
        Assert.DoesNotContain(await client.ReadUntilReadyAsync(), m => m.Code == 'E'); // the Parse
        var copied = await client.ReadUntilReadyAsync();
        Assert.DoesNotContain(copied, m => m.Code == 'E');
        Assert.Contains(copied, m => m.Code == 'C' && m.BodyText.StartsWith("COPY 1", StringComparison.Ordinal));
        Assert.Equal("1", Assert.Single(await client.ReadUntilReadyAsync(), m => m.Code == 'D').Columns()[0]);
        Assert.Equal(engine, fixture.Server.EngineId);
    }

    /// <summary>A client whose statement <paramref name="name"/> (named, or unnamed for "") is COPY <paramref name="table"/> FROM STDIN.</summary>
    private async Task<RawProtocolClient> ClientWithCopyAsync(string table, string name)
    {
        var client = await RawProtocolClient.ConnectAsync(fixture.Server);
        await client.Query($"create table if not exists {table} (a int)").RoundTripAsync();
        await client.Parse(name, $"copy {table} from stdin").DescribeStatement(name).Sync().RoundTripAsync();
        return client;
    }
}
