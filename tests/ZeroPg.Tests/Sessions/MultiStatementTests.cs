using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>Several statements in one simple Query message, and Npgsql batches (several statements, one Sync).</summary>
[Collection(ServerCollection.Name)]
public class MultiStatementTests(ServerFixture fixture)
{
    [Fact]
    public async Task One_query_with_several_statements_answers_each_then_one_ready()
    {
        await using var raw = await RawProtocolClient.ConnectAsync(fixture.Server);
        var reply = await raw.Query("create table multi_ok (id int); insert into multi_ok values (1), (2); select count(*) from multi_ok").RoundTripAsync();
        Assert.Equal("CCTDCZ", string.Concat(reply.Select(m => m.Code)));
        Assert.Equal("CREATE TABLE\0", reply[0].BodyText);
        Assert.Equal("INSERT 0 2\0", reply[1].BodyText);
        Assert.Equal("SELECT 1\0", reply[4].BodyText);
        Assert.Equal((byte)'I', reply[^1].Body[0]);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ; ")]
    [InlineData("-- only a comment")]
    public async Task An_empty_query_gets_EmptyQueryResponse(string sql)
    {
        await using var raw = await RawProtocolClient.ConnectAsync(fixture.Server);
        Assert.Equal("IZ", string.Concat((await raw.Query(sql).RoundTripAsync()).Select(m => m.Code)));
    }

    [Fact]
    public async Task A_failing_statement_stops_the_rest_of_the_query()
    {
        await using var raw = await RawProtocolClient.ConnectAsync(fixture.Server);
        await raw.Query("create sequence multi_seq; create table multi_fail (id int)").RoundTripAsync();

        // One implicit transaction: the insert before the error is rolled back, the statements after it never run
        // (nextval is not transactional, so the sequence shows how far the script got).
        var reply = await raw.Query(
            "insert into multi_fail values (1); select nextval('multi_seq'); select 1/0; select nextval('multi_seq'); insert into multi_fail values (2)").RoundTripAsync();
        Assert.Equal("CTDCEZ", string.Concat(reply.Select(m => m.Code)));
        Assert.Equal("22012", reply[4].SqlState);
        Assert.Equal((byte)'I', reply[^1].Body[0]);

        var check = await raw.Query("select nextval('multi_seq'), (select count(*) from multi_fail)").RoundTripAsync();
        var row = check.Single(m => m.Code == 'D');
        Assert.Contains("2", row.Columns());
        Assert.Equal(new List<string?> { "2", "0" }, row.Columns());
    }

    [Fact]
    public async Task Psql_script_with_a_failing_statement_runs_nothing_after_it()
    {
        var result = await ExternalTool.RunAsync("psql", [fixture.Url, "-XAt", "-c",
            "create table multi_psql (id int); insert into multi_psql values (1); select 1/0; insert into multi_psql values (2)"]);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("division by zero", result.Stderr);
        var check = await ExternalTool.RunAsync("psql", [fixture.Url, "-XAt", "-c", "select to_regclass('multi_psql') is null"]);
        Assert.Equal("t", check.Stdout.Trim()); // the whole implicit transaction, the CREATE included, rolled back
    }

    [Fact]
    public async Task A_npgsql_batch_with_a_failing_command_skips_the_rest()
    {
        await using var connection = await fixture.OpenAsync();
        await using (var create = new NpgsqlCommand("create table multi_batch (id int)", connection))
            await create.ExecuteNonQueryAsync();
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("insert into multi_batch values (1)"),
                new NpgsqlBatchCommand("insert into multi_batch select 1 / (count(*) - 1)::int from multi_batch"), // fails when run, not when planned
                new NpgsqlBatchCommand("insert into multi_batch values (3)"),
            },
        };
        var error = await Assert.ThrowsAsync<PostgresException>(() => batch.ExecuteNonQueryAsync());
        Assert.Equal("22012", error.SqlState);
        await using var count = new NpgsqlCommand("select count(*) from multi_batch", connection);
        Assert.Equal(0L, await count.ExecuteScalarAsync());

        await using var good = new NpgsqlBatch(connection)
        {
            BatchCommands = { new NpgsqlBatchCommand("insert into multi_batch values (1)"), new NpgsqlBatchCommand("select count(*) from multi_batch") },
        };
        await using var reader = await good.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync()); // the INSERT has no result set; the reader starts at the SELECT
        Assert.Equal(1L, reader.GetInt64(0));
    }
}
