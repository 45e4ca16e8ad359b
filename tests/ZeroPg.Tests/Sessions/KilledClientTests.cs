using System.Diagnostics;
using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>A client that vanishes while holding the engine (open transaction, COPY) must not take the server with it.</summary>
[Collection(ServerCollection.Name)]
public sealed class KilledClientTests(ServerFixture fixture)
{
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task Client_killed_mid_transaction_is_rolled_back_and_the_server_stays_usable()
    {
        var table = $"killed_tx_{Guid.NewGuid():N}";
        await using var other = await fixture.OpenAsync();
        await Exec(other, $"create table {table} (id int primary key, v text); insert into {table} values (1, 'before')");

        var victim = await RawProtocolClient.ConnectAsync(fixture.Server);
        RawStatementNameTests.AssertOk(await victim.Query(
            $"begin; update {table} set v = 'locked' where id = 1; insert into {table} select g, 'killed' from generate_series(2, 100) g").RoundTripAsync());
        victim.Kill();

        // Another client gets the engine at once, sees none of the killed transaction and can take its row lock.
        var watch = Stopwatch.StartNew();
        await using (var check = new NpgsqlCommand($"select count(*), max(v) from {table}", other) { CommandTimeout = 5 })
        await using (var reader = await check.ExecuteReaderAsync())
        {
            Assert.True(await reader.ReadAsync());
            Assert.True(watch.Elapsed < Prompt, $"the server answered after {watch.Elapsed}");
            Assert.Equal(1, reader.GetInt64(0));
            Assert.Equal("before", reader.GetString(1));
        }
        await Exec(other, $"begin; update {table} set v = 'after' where id = 1; commit");
        Assert.Equal("after", await Scalar(other, $"select v from {table} where id = 1"));
    }

    [Fact]
    public async Task Client_killed_mid_copy_is_rolled_back_and_the_server_stays_usable()
    {
        var table = $"killed_copy_{Guid.NewGuid():N}";
        await using var other = await fixture.OpenAsync();
        await Exec(other, $"create table {table} (id int, v text)");

        var victim = await RawProtocolClient.ConnectAsync(fixture.Server);
        await victim.Query($"copy {table} from stdin").FlushAsync();
        var response = await victim.ReadMessageAsync();
        Assert.Equal('G', response!.Code); // CopyInResponse
        for (var i = 0; i < 20; i++)
            victim.CopyData(string.Concat(Enumerable.Range(i * 50, 50).Select(n => $"{n}\trow {n}\n")));
        await victim.FlushAsync();
        await CopyDataTakenInAsync(20 * 50 * 10);
        victim.Kill();

        var watch = Stopwatch.StartNew();
        Assert.Equal("0", await Scalar(other, $"select count(*) from {table}"));
        Assert.True(watch.Elapsed < Prompt, $"the server answered after {watch.Elapsed}");
        // A COPY by a live client afterwards works.
        await using (var writer = await other.BeginTextImportAsync($"copy {table} from stdin"))
            await writer.WriteAsync("1\tok\n2\tok\n");
        Assert.Equal("2", await Scalar(other, $"select count(*) from {table}"));
    }

    [Fact]
    public async Task Client_killed_mid_copy_inside_a_transaction_loses_the_whole_transaction()
    {
        var table = $"killed_copy_tx_{Guid.NewGuid():N}";
        await using var other = await fixture.OpenAsync();
        await Exec(other, $"create table {table} (id int, v text)");

        var victim = await RawProtocolClient.ConnectAsync(fixture.Server);
        RawStatementNameTests.AssertOk(await victim.Query($"begin; insert into {table} values (-1, 'first')").RoundTripAsync());
        await victim.Query($"copy {table} from stdin").FlushAsync();
        Assert.Equal('G', (await victim.ReadMessageAsync())!.Code);
        await victim.CopyData("1\ta\n2\tb\n").FlushAsync();
        await CopyDataTakenInAsync(8);
        victim.Kill();

        var watch = Stopwatch.StartNew();
        Assert.Equal("0", await Scalar(other, $"select count(*) from {table}"));
        Assert.True(watch.Elapsed < Prompt, $"the server answered after {watch.Elapsed}");
    }

    [Fact]
    public async Task Client_killed_inside_an_extended_sequence_before_sync_is_not_committed()
    {
        var table = $"killed_ext_{Guid.NewGuid():N}";
        await using var other = await fixture.OpenAsync();
        await Exec(other, $"create table {table} (id int)");

        // Parse/Bind/Execute then Flush, no Sync: Postgres has run the insert in an implicit transaction
        // that only Sync would commit. A client dying here loses the insert.
        var victim = await RawProtocolClient.ConnectAsync(fixture.Server);
        await victim.Parse("", $"insert into {table} select generate_series(1, 10)").Bind("", "").Execute().Flush().FlushAsync();
        Assert.Equal('1', (await victim.ReadMessageAsync())!.Code);
        Assert.Equal('2', (await victim.ReadMessageAsync())!.Code);
        Assert.Equal('C', (await victim.ReadMessageAsync())!.Code);
        victim.Kill();

        var watch = Stopwatch.StartNew();
        Assert.Equal("0", await Scalar(other, $"select count(*) from {table}"));
        Assert.True(watch.Elapsed < Prompt, $"the server answered after {watch.Elapsed}");
    }

    [Fact]
    public async Task Terminate_inside_a_transaction_rolls_it_back()
    {
        var table = $"terminated_tx_{Guid.NewGuid():N}";
        await using var other = await fixture.OpenAsync();
        await Exec(other, $"create table {table} (id int)");

        await using var leaver = await RawProtocolClient.ConnectAsync(fixture.Server);
        RawStatementNameTests.AssertOk(await leaver.Query($"begin; insert into {table} values (1)").RoundTripAsync());
        await leaver.Terminate().FlushAsync();
        Assert.Null(await leaver.ReadMessageAsync(TimeSpan.FromSeconds(2)));

        Assert.Equal("0", await Scalar(other, $"select count(*) from {table}"));
    }

    /// <summary>Until the server has read the COPY data sent (a session in COPY has received at least <paramref name="bytes"/> bytes of it).</summary>
    private Task CopyDataTakenInAsync(int bytes)
        => Eventually.WaitUntilAsync(() => fixture.Server.Services.Registry.Sessions.Any(s => s.CopyBytesReceived >= bytes), "the COPY data taken in by the server");

    private static async Task Exec(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 5 };
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<string?> Scalar(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 5 };
        return (await command.ExecuteScalarAsync())?.ToString();
    }
}
