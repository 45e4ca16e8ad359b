using Npgsql;
using ZeroPg.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Engine.Pooled;

/// <summary>
/// A BEGIN sent as a simple Query (pgbench's, psql's, Npgsql's) takes no backend: the pool's one backend serves others until the
/// block's first statement, and the block then runs on the backend as it would have (src/ZeroPg/Engine/Pooled/DeferredBegin.cs).
/// </summary>
public sealed class DeferredBeginTests
{
    private static ZeroPgOptions OneBackend(TimeSpan waitTimeout) => new()
    {
        Engine = EngineKind.Postgres,
        PostgresBinDirectory = NativePostgres.DefaultBin,
        MaxConnections = 10,
        PoolSize = 1,
        PoolWaitTimeout = waitTimeout,
        PostgresSettings = { ["shared_buffers"] = "32MB" },
    };

    [Fact]
    public async Task A_client_idle_after_its_BEGIN_holds_no_backend_and_its_block_commits_or_rolls_back_whole()
    {
        await using var server = await ZeroPgServer.StartAsync(OneBackend(TimeSpan.FromSeconds(2)), TestLogging.Factory);
        await using var other = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await other.OpenAsync();
        await other.ExecAsync("CREATE TABLE deferred_rows (x int)");
        await using var client = await RawProtocolClient.ConnectAsync(server);

        AssertAnswered(await client.Query("BEGIN").RoundTripAsync(), "BEGIN", 'T');
        // The pool's only backend is free: a block that held it from its BEGIN would make this wait out the pool's timeout (57014).
        Assert.Equal(1, await other.ScalarAsync("SELECT 1"));

        AssertAnswered(await client.Query("INSERT INTO deferred_rows VALUES (1)").RoundTripAsync(), "INSERT 0 1", 'T');
        var txid = (await client.SingleRowAsync("SELECT txid_current()"))[0];
        Assert.Equal(txid, (await client.SingleRowAsync("SELECT txid_current()"))[0]); // one transaction on the backend
        AssertAnswered(await client.Query("ROLLBACK").RoundTripAsync(), "ROLLBACK", 'I');
        Assert.Equal(0L, await other.ScalarAsync("SELECT count(*) FROM deferred_rows"));

        // Pipelined in one write, START TRANSACTION as the BEGIN: the replies in order, the block committed whole.
        await client.Query("start transaction;").Query("INSERT INTO deferred_rows VALUES (2)").Query("INSERT INTO deferred_rows VALUES (3)").Query("COMMIT").FlushAsync();
        var replies = new List<RawProtocolClient.Message>();
        for (var query = 0; query < 4; query++)
            replies.AddRange(await client.ReadUntilReadyAsync());
        Assert.Equal("C:START TRANSACTION Z:T C:INSERT 0 1 Z:T C:INSERT 0 1 Z:T C:COMMIT Z:I", Summary(replies));
        Assert.Equal(2L, await other.ScalarAsync("SELECT count(*) FROM deferred_rows"));

        // Npgsql's form, an isolation level: answered here too, and the level reaches the backend with the block's first statement.
        AssertAnswered(await client.Query("BEGIN TRANSACTION ISOLATION LEVEL SERIALIZABLE").RoundTripAsync(), "BEGIN", 'T');
        Assert.Equal(1, await other.ScalarAsync("SELECT 1"));
        Assert.Equal("serializable", (await client.SingleRowAsync("SHOW transaction_isolation"))[0]);
        AssertAnswered(await client.Query("COMMIT").RoundTripAsync(), "COMMIT", 'I');

        // Other options go to a backend at once, as before: they must reach it, and the backend may refuse them.
        AssertAnswered(await client.Query("BEGIN READ ONLY").RoundTripAsync(), "BEGIN", 'T');
        Assert.Equal("on", (await client.SingleRowAsync("SHOW transaction_read_only"))[0]);
        AssertAnswered(await client.Query("COMMIT").RoundTripAsync(), "COMMIT", 'I');
        Assert.Equal("E:42601 Z:I", Summary(await client.Query("BEGIN ISOLATION LEVEL SOMETIMES").RoundTripAsync()));
    }

    [Fact]
    public async Task A_statement_of_the_block_that_gets_no_backend_fails_the_block_as_in_postgres()
    {
        await using var server = await ZeroPgServer.StartAsync(OneBackend(TimeSpan.FromSeconds(1)), TestLogging.Factory);
        await using var holder = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await holder.OpenAsync();
        await using var client = await RawProtocolClient.ConnectAsync(server);
        AssertAnswered(await client.Query("BEGIN").RoundTripAsync(), "BEGIN", 'T');
        await holder.ExecAsync("BEGIN; SELECT 1"); // sent extended: the holder's block holds the one backend

        var waited = await client.Query("SELECT 2").RoundTripAsync();
        Assert.Equal("57014", waited.Single(m => m.Code == 'E').SqlState);
        Assert.Equal('E', (char)waited[^1].Body[0]);
        await holder.ExecAsync("COMMIT");

        // Now on a backend: the block is failed there, as the error left it.
        var ignored = await client.Query("SELECT 3").RoundTripAsync();
        Assert.Equal("25P02", ignored.Single(m => m.Code == 'E').SqlState);
        Assert.Equal('E', (char)ignored[^1].Body[0]);
        AssertAnswered(await client.Query("COMMIT").RoundTripAsync(), "ROLLBACK", 'I');
        Assert.Equal("4", (await client.SingleRowAsync("SELECT 4"))[0]);
        Assert.Equal(1, await holder.ScalarAsync("SELECT 1")); // the backend went back to the pool
    }

    private static void AssertAnswered(List<RawProtocolClient.Message> replies, string tag, char status) =>
        Assert.Equal($"C:{tag} Z:{status}", Summary(replies));

    /// <summary>CommandComplete tags and ReadyForQuery statuses, in order; other messages (rows, descriptions) left out.</summary>
    private static string Summary(IEnumerable<RawProtocolClient.Message> replies) => string.Join(' ', replies
        .Where(m => m.Code is 'C' or 'Z' or 'E')
        .Select(m => m.Code switch { 'C' => "C:" + m.BodyText.TrimEnd('\0'), 'Z' => "Z:" + (char)m.Body[0], _ => "E:" + m.SqlState }));
}
