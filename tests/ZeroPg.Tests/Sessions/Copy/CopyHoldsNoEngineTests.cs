using System.Diagnostics;
using Xunit.Abstractions;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions.Copy;

/// <summary>
/// A COPY FROM STDIN outside a transaction block holds the shared engine only once its data is complete: a client that
/// sits silent mid-COPY costs the others nothing, its rows are committed when it finishes, and a CopyFail or a
/// disconnect before CopyDone leaves nothing. Inside a block, where the engine is already the client's, a COPY whose
/// data stalls is ended by the server's --copy-stall-timeout (FATAL 25P03, transaction rolled back).
/// </summary>
public sealed class CopyHoldsNoEngineTests(SmallPieceServerFixture fixture, ITestOutputHelper output) : IClassFixture<SmallPieceServerFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private async Task<RawProtocolClient> StartCopyAsync(string table, string? before = null)
    {
        var client = await RawProtocolClient.ConnectAsync(fixture.Server);
        await client.Query($"create table {table} (id int, v text)").RoundTripAsync();
        if (before is not null)
            await client.Query(before).RoundTripAsync();
        client.Query($"copy {table} from stdin");
        await client.FlushAsync();
        var started = await client.ReadMessageAsync(Patience);
        Assert.Equal('G', started!.Code);
        client.CopyData("1\tfirst\n");
        await client.FlushAsync();
        return client;
    }

    private async Task<string?> CountAsync(RawProtocolClient client, string table) => (await client.SingleRowAsync($"select count(*) from {table}"))[0];

    [Fact]
    public async Task Others_answer_while_a_client_sits_silent_in_a_copy_and_its_rows_commit_when_it_finishes()
    {
        var table = $"copy_silent_{Guid.NewGuid():N}"[..24];
        await using var copier = await StartCopyAsync(table);
        await using var other = await RawProtocolClient.ConnectAsync(fixture.Server);
        for (var i = 0; i < 5; i++)
        {
            var clock = Stopwatch.StartNew();
            var replies = await other.Query("select 1").RoundTripAsync(Patience); // before: waited for the copier to leave
            Assert.Contains(replies, m => m.Code == 'D');
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"select 1 took {clock.Elapsed} while another client sat in COPY");
            output.WriteLine($"select 1 beside a silent COPY: {clock.Elapsed.TotalMilliseconds:0.0} ms");
        }
        Assert.Equal("0", await CountAsync(other, table)); // nothing of the COPY is visible before CopyDone

        for (var i = 2; i <= 3000; i++)
            copier.CopyData($"{i}\trow {i}\n");
        var done = await copier.CopyDone().RoundTripAsync(Patience);
        Assert.Equal("COPY 3000", done.Single(m => m.Code == 'C').BodyText.TrimEnd('\0'));
        Assert.Equal('I', (char)done[^1].Body[0]);
        Assert.Equal("3000", await CountAsync(other, table));
    }

    [Fact]
    public async Task CopyFail_and_a_disconnect_before_CopyDone_leave_nothing_and_cost_the_others_nothing()
    {
        var failed = $"copy_fail_{Guid.NewGuid():N}"[..24];
        var left = $"copy_left_{Guid.NewGuid():N}"[..24];
        var engine = fixture.Server.EngineId;
        await using var other = await RawProtocolClient.ConnectAsync(fixture.Server);

        await using (var client = await StartCopyAsync(failed))
        {
            var replies = await client.CopyFail("changed my mind").RoundTripAsync(Patience);
            var error = replies.Single(m => m.Code == 'E');
            Assert.Equal("57014", error.SqlState);
            Assert.Equal("COPY from stdin failed: changed my mind", error.MessageText);
            Assert.Equal("1", (await client.SingleRowAsync("select 1"))[0]); // the session goes on
        }
        var leaving = await StartCopyAsync(left);
        leaving.Kill();
        await leaving.DisposeAsync();

        Assert.Equal("0", await CountAsync(other, failed));
        await Eventually.WaitUntilAsync(async () => await CountAsync(other, left) == "0", "the departed client's COPY left nothing", Patience);
        Assert.Equal(engine, fixture.Server.EngineId);
        Assert.Empty(Directory.GetFiles(Path.GetTempPath(), $"zeropg-copy-{Environment.ProcessId}-*")); // spilled data is unlinked at once
    }

    [Fact]
    public async Task A_copy_that_stalls_inside_a_transaction_block_is_ended_with_25P03_and_rolled_back()
    {
        var table = $"copy_stall_{Guid.NewGuid():N}"[..24];
        var client = await StartCopyAsync(table, before: $"begin; insert into {table} values (0, 'in the block')");
        await using var other = await RawProtocolClient.ConnectAsync(fixture.Server);
        var replies = await client.ReadUntilClosedAsync(Patience); // the client sends nothing more
        var fatal = replies.Single(m => m.Code == 'E');
        Assert.Equal("FATAL", fatal.Field('S'));
        Assert.Equal("25P03", fatal.SqlState);
        Assert.Contains("--copy-stall-timeout", fatal.Field('H'));
        await client.DisposeAsync();
        // The engine is free again and the block's insert and COPY row are gone.
        Assert.Equal("0", await CountAsync(other, table));
    }
}
