using ZeroPg.Tests.Infrastructure;
using static ZeroPg.Tests.Infrastructure.RawProtocolClient;

namespace ZeroPg.Tests.Sessions;

/// <summary>
/// A repeated simple Query runs through a statement ZeroPg prepared itself. The client must not be able
/// to tell: same reply bytes, same errors, and the schema it sees is always the current one.
/// </summary>
public sealed class AutoPrepareTests
{
    private const string Setup = """
        create table items (id int primary key, v text, n numeric, big bigint, doc jsonb);
        insert into items values (1, 'one', 1.50, 3000000000, '[10, 20]'), (2, 'two', -2.25, 1, '[30]'), (3, 'three', 0, -5, '[]');
        create table log (n int)
        """;

    [Theory]
    [InlineData("select * from items where id = 2")]
    [InlineData("select v, n * 2, n + -1 from items where id >= 2 order by 1")]
    [InlineData("select id / 2, count(*) from items group by id / 2 order by 1")]
    [InlineData("select id, doc->0, doc->>1 from items where big < 3000000001 and n > -3.5 order by id")]
    [InlineData("select -2147483648 = id - 2147483649 from items where id = 1")]
    [InlineData("select * from items where id = 42")]
    [InlineData("update items set v = 'uno' where id = 1")]
    [InlineData("update items set n = n * 1 where id < 3 returning id, n")]
    [InlineData("insert into log values (7), (-8) returning n, n * 2")]
    [InlineData("delete from log where n = 123456")]
    public async Task A_repeated_query_answers_byte_for_byte_as_the_plain_one(string sql)
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var client = await ConnectAsync(server);
        await client.Query(Setup).RoundTripAsync();
        var plain = await client.Query(sql).RoundTripAsync();
        Assert.DoesNotContain(plain, m => m.Code == 'E');
        for (var run = 0; run < 3; run++)
        {
            var before = server.Metrics.AutoPreparedRuns;
            var prepared = await client.Query(sql).RoundTripAsync();
            Assert.Equal(Describe(plain), Describe(prepared));
            Assert.Equal(plain.Select(m => Convert.ToHexString(m.Body)), prepared.Select(m => Convert.ToHexString(m.Body)));
            Assert.Equal(before + 1, server.Metrics.AutoPreparedRuns);
        }
    }

    [Fact]
    public async Task Turned_off_every_query_goes_to_the_engine_as_sent()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { AutoPrepare = false }, TestLogging.Factory);
        await using var client = await ConnectAsync(server);
        for (var i = 0; i < 3; i++)
            Assert.Equal("1", (await client.SingleRowAsync("select 1 where 1 = 1"))[0]);
        Assert.Equal(0, server.Metrics.AutoPreparedRuns);
    }

    [Fact]
    public async Task A_schema_change_is_seen_at_once_and_a_rolled_back_one_is_undone()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var client = await ConnectAsync(server);
        await client.Query(Setup).RoundTripAsync();
        const string sql = "select * from items where id = 1";
        for (var i = 0; i < 3; i++)
            Assert.Equal(5, (await client.SingleRowAsync(sql)).Length);
        Assert.True(server.Metrics.AutoPreparedRuns >= 2);

        await client.Query("alter table items add column extra int default 7").RoundTripAsync();
        for (var i = 0; i < 3; i++)
        {
            var reply = await client.Query(sql).RoundTripAsync();
            Assert.DoesNotContain(reply, m => m.Code == 'E');
            Assert.Equal("7", reply.Single(m => m.Code == 'D').Columns()[5]);
        }

        await client.Query("begin").RoundTripAsync();
        await client.Query("alter table items drop column extra").RoundTripAsync();
        for (var i = 0; i < 3; i++)
            Assert.Equal(5, (await client.SingleRowAsync(sql)).Length);
        await client.Query("rollback").RoundTripAsync();
        for (var i = 0; i < 3; i++)
        {
            var reply = await client.Query(sql).RoundTripAsync();
            Assert.DoesNotContain(reply, m => m.Code == 'E');
            Assert.Equal("7", reply.Single(m => m.Code == 'D').Columns()[5]);
        }
    }

    [Fact]
    public async Task DDL_run_inside_a_function_is_caught_before_the_statement_runs_and_the_query_runs_plain()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var client = await ConnectAsync(server);
        await client.Query(Setup).RoundTripAsync();
        await client.Query("create function widen() returns void language plpgsql as $$ begin alter table items add column wide int default 9; end $$").RoundTripAsync();
        const string sql = "select * from items where id = 1";
        for (var i = 0; i < 2; i++)
            Assert.Equal(5, (await client.SingleRowAsync(sql)).Length);
        await client.Query("select widen()").RoundTripAsync(); // a SELECT: not seen as DDL
        var reply = await client.Query(sql).RoundTripAsync();
        Assert.DoesNotContain(reply, m => m.Code == 'E');
        Assert.Equal("9", reply.Single(m => m.Code == 'D').Columns()[5]);
        Assert.Equal('I', (char)reply[^1].Body[0]);
        for (var i = 0; i < 2; i++)
            Assert.Equal("9", (await client.SingleRowAsync(sql))[5]);
    }

    [Fact]
    public async Task A_temp_table_shadowing_a_table_is_read_by_its_owner_only()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var owner = await ConnectAsync(server);
        await using var other = await ConnectAsync(server);
        await other.Query(Setup).RoundTripAsync();
        const string sql = "select v from items where id = 1";
        for (var i = 0; i < 3; i++)
            Assert.Equal("one", (await other.SingleRowAsync(sql))[0]);

        await owner.Query("create temp table items (id int, v text); insert into items values (1, 'mine')").RoundTripAsync();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("mine", (await owner.SingleRowAsync(sql))[0]);
            Assert.Equal("one", (await other.SingleRowAsync(sql))[0]);
        }
    }

    [Fact]
    public async Task Clients_with_different_search_paths_read_their_own_tables()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var left = await ConnectAsync(server);
        await using var right = await ConnectAsync(server);
        await left.Query("create schema l; create schema r; create table l.t (id int, v text); create table r.t (id int, v text); " +
            "insert into l.t values (1, 'left'); insert into r.t values (1, 'right')").RoundTripAsync();
        await left.Query("set search_path = l").RoundTripAsync();
        await right.Query("set search_path = r").RoundTripAsync();
        const string sql = "select v from t where id = 1";
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal("left", (await left.SingleRowAsync(sql))[0]);
            Assert.Equal("right", (await right.SingleRowAsync(sql))[0]);
        }
        Assert.True(server.Metrics.AutoPreparedRuns >= 6);
    }

    [Fact]
    public async Task Errors_are_those_of_the_plain_query()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var client = await ConnectAsync(server);
        await client.Query(Setup).RoundTripAsync();

        // Fails at parse time: never prepared, so the position is the client's own text.
        for (var i = 0; i < 2; i++)
        {
            var error = (await client.Query("select nosuch from items where id = 1").RoundTripAsync()).Single(m => m.Code == 'E');
            Assert.Equal("42703", error.SqlState);
            Assert.Equal("8", error.Field('P'));
        }

        // Fails at run time once prepared: the same error, then the transaction is aborted as after a plain Query.
        const string divide = "select 10 / (id - 1) from items where v = 'two'";
        for (var i = 0; i < 2; i++)
            Assert.Equal("10", (await client.SingleRowAsync(divide))[0]);
        await client.Query("begin").RoundTripAsync();
        var before = server.Metrics.AutoPreparedRuns;
        var failed = await client.Query("select 10 / (id - 2) from items where v = 'two'").RoundTripAsync();
        Assert.Equal("22012", failed.Single(m => m.Code == 'E').SqlState);
        Assert.Equal('E', (char)failed[^1].Body[0]);
        var next = await client.Query(divide).RoundTripAsync();
        Assert.Equal("25P02", next.Single(m => m.Code == 'E').SqlState);
        await client.Query("rollback").RoundTripAsync();
        Assert.Equal(before + 1, server.Metrics.AutoPreparedRuns);
    }

    [Fact]
    public async Task Beyond_the_limit_the_least_recently_used_statements_are_closed_in_the_engine()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { AutoPrepareMaxStatements = 3 }, TestLogging.Factory);
        await using var client = await ConnectAsync(server);
        await client.Query(Setup).RoundTripAsync();
        var columns = new[] { "id", "v", "n", "big", "doc", "id + 1" };
        for (var round = 0; round < 3; round++)
        {
            foreach (var column in columns)
            {
                var reply = await client.Query($"select {column} from items where id = 3").RoundTripAsync();
                Assert.DoesNotContain(reply, m => m.Code == 'E');
                Assert.Single(reply, m => m.Code == 'D');
            }
        }
        Assert.True(server.Metrics.AutoPreparedRuns >= 12);
        // The engine's own statements: pg_prepared_statements shows only the client's, the function under it shows the engine's.
        var held = await client.Query("select count(*) from pg_catalog.pg_prepared_statement() where name like 'zp\\_auto\\_%'").RoundTripAsync();
        Assert.Equal("3", held.Single(m => m.Code == 'D').Columns()[0]);
    }
}
