using Npgsql;
using ZeroPg.Sessions;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>
/// --contended-idle-timeout: a client idle while it holds the shared engine (an open transaction, an extended sequence not
/// ended by Sync) is rolled back and disconnected with 25P03 once another client has waited that long for the engine; alone it
/// may idle as long as its other timeouts allow.
/// </summary>
public sealed class ContendedIdleTimeoutTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task An_idle_transaction_that_others_wait_behind_is_rolled_back_and_its_client_ended_with_25P03()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { ContendedIdleTimeout = Limit }, TestLogging.Factory);
        var cs = server.GetConnectionString() + ";Pooling=false";
        await using var other = new NpgsqlConnection(cs);
        await other.OpenAsync();
        await other.ExecAsync("CREATE TABLE contended(x int)");
        await using var idle = new NpgsqlConnection(cs);
        await idle.OpenAsync();
        await idle.ExecAsync("BEGIN");
        await idle.ExecAsync("INSERT INTO contended VALUES (1)");

        // Before, this waited for the idle client's next statement or its ten-minute idle-in-transaction timeout.
        Assert.Equal(0L, await other.ScalarAsync("SELECT count(*) FROM contended"));

        await Eventually.WaitUntilAsync(() => server.Services.Registry.Count == 1, "the idle session ended");
        var error = await Assert.ThrowsAnyAsync<Exception>(() => idle.ScalarAsync("SELECT 1"));
        var postgres = error as PostgresException ?? error.InnerException as PostgresException;
        Assert.NotNull(postgres);
        Assert.Equal("25P03", postgres.SqlState);
        Assert.Contains("--contended-idle-timeout", postgres.Hint);
    }

    [Fact]
    public async Task An_unsynced_sequence_that_others_wait_behind_is_ended_and_its_implicit_transaction_rolled_back()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { ContendedIdleTimeout = Limit }, TestLogging.Factory);
        await using var other = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await other.OpenAsync();
        await other.ExecAsync("CREATE TABLE contended_seq(x int)");
        await using var raw = await RawProtocolClient.ConnectAsync(server);
        var executed = await raw.Parse("", "INSERT INTO contended_seq VALUES (1)").Bind("", "").Execute().Flush().RoundTripUntilAsync('C');
        Assert.Equal('C', executed[^1].Code); // the INSERT ran, in the implicit transaction its Sync would commit

        Assert.Equal(0L, await other.ScalarAsync("SELECT count(*) FROM contended_seq"));
        var closing = await raw.ReadUntilClosedAsync();
        Assert.Contains(closing, m => m.Code == 'E' && m.SqlState == "25P03");
        Assert.Equal(0L, await other.ScalarAsync("SELECT count(*) FROM contended_seq"));
    }

    /// <summary>
    /// A driver ends its sequence with a Sync as it sends it; one left open outside a block gets the shorter of the contended
    /// limit and 1 s (SessionTimeouts.ShortLimit), here under the default 5 s (the fuzzer's clients held the engine 2.1 s so).
    /// </summary>
    [Fact]
    public async Task An_unsynced_sequence_that_others_wait_behind_is_ended_after_a_second()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        Assert.True(ZeroPgOptions.DefaultContendedIdleTimeout > SessionTimeouts.ShortLimit);
        await using var other = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await other.OpenAsync();
        await using var raw = await RawProtocolClient.ConnectAsync(server);
        var executed = await raw.Parse("", "SELECT 1").Bind("", "").Execute().Flush().RoundTripUntilAsync('C');
        Assert.Equal('C', executed[^1].Code);

        Assert.Equal(1, await other.ScalarAsync("SELECT 1"));
        var closing = await raw.ReadUntilClosedAsync();
        var fatal = Assert.Single(closing, m => m.Code == 'E' && m.SqlState == "25P03");
        Assert.Contains("not ended by Sync", fatal.MessageText);
    }

    /// <summary>
    /// Issue 59's fuzzer: 1,440 FunctionCalls of pg_sleep(0.01) sent in one write inside START TRANSACTION held the engine
    /// 14.9 s while 143 clients waited. The client was never idle, so only the idle limit stood behind it; now a pipeline
    /// inside a block is ended too once it has held the engine for the limit and another client waited as long.
    /// </summary>
    [Fact]
    public async Task A_pipeline_inside_a_transaction_block_that_others_wait_behind_is_ended_and_rolled_back()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { ContendedIdleTimeout = Limit }, TestLogging.Factory);
        await using var other = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await other.OpenAsync();
        await other.ExecAsync("CREATE TABLE contended_pipeline(x int)");
        await using var raw = await RawProtocolClient.ConnectAsync(server);
        raw.Query("BEGIN").Query("INSERT INTO contended_pipeline VALUES (1)");
        for (var i = 0; i < 800; i++) // 8 s of pg_sleep(0.01) at least: eight limits
            raw.Bytes(PgSleepCall);
        raw.Query("COMMIT");
        await raw.FlushAsync();
        // Its block holds the engine once its INSERT ran.
        while (await raw.ReadMessageAsync() is { } message && !(message.Code == 'C' && message.BodyText.StartsWith("INSERT", StringComparison.Ordinal)))
        {
        }

        // Before, this waited for the whole pipeline and its COMMIT: it saw the row.
        Assert.Equal(0L, await other.ScalarAsync("SELECT count(*) FROM contended_pipeline"));
        var closing = await raw.ReadUntilClosedAsync();
        var fatal = Assert.Single(closing, m => m.Code == 'E' && m.SqlState == "25P03");
        Assert.Contains("pipeline inside a transaction block", fatal.MessageText);
        Assert.Equal(0L, await other.ScalarAsync("SELECT count(*) FROM contended_pipeline"));
    }

    /// <summary>
    /// The fuzzer's other shape (33120:1:98, a 16 s hold): Queries sent after an Execute with no Sync, which leaves the engine
    /// holding the client's extended sequence between them as a block does.
    /// </summary>
    [Fact]
    public async Task A_pipeline_of_queries_inside_an_unsynced_sequence_that_others_wait_behind_is_ended()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { ContendedIdleTimeout = Limit }, TestLogging.Factory);
        await using var other = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await other.OpenAsync();
        await using var raw = await RawProtocolClient.ConnectAsync(server);
        raw.Parse("", "SELECT 'unsynced'").Bind("", "").Execute().Flush();
        for (var i = 0; i < 800; i++) // 8 s of pg_sleep(0.01) at least
            raw.Query("SELECT pg_sleep(0.01)");
        raw.Sync();
        await raw.FlushAsync();
        while (await raw.ReadMessageAsync() is { } message && message.Code != 'C')
        {
        }

        // Before, this waited for all 800 Queries.
        Assert.Equal(1, await other.ScalarAsync("SELECT 1"));
        var closing = await raw.ReadUntilClosedAsync();
        Assert.Single(closing, m => m.Code == 'E' && m.SqlState == "25P03");
    }

    /// <summary>
    /// The fuzzer's flood (seed 13133, a 25-38 s hold): thousands of Binds and Executes sent without a Sync went to the engine
    /// in one call, with no point between where the session could see that others waited. Now such a run goes in pieces
    /// (ClientBatch.MaxMessagesPerCall), and between them the pipeline limit ends it: after 1 s (SessionTimeouts.ShortLimit),
    /// though the idle limit is the default 5 s (a pipeline is no client's gap; 5.1 s holds made the witness wait as long).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)] // the flood before an extended COPY's Bind and Execute ran in one call too (seed 13133 again: 24 s)
    public async Task A_flood_of_executes_without_a_sync_that_others_wait_behind_is_ended(bool copyAfter)
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        Assert.True(ZeroPgOptions.DefaultContendedIdleTimeout > TimeSpan.FromSeconds(3), "the flood below runs 3 s: it must end by the pipeline's own limit");
        await using var other = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await other.OpenAsync();
        await other.ExecAsync("CREATE TABLE flood_copy (a int)");
        await using var raw = await RawProtocolClient.ConnectAsync(server);
        const int quick = 63; // fast statements ahead grow the pipeline's slices to 32 units (PipelineSlices): the flood is one of them
        for (var i = 0; i < quick; i++)
            raw.Query("SELECT 1");
        raw.Parse("nap", "SELECT pg_sleep(0.01)");
        for (var i = 0; i < 300; i++) // 3 s of pg_sleep(0.01) at least, in one unsynced sequence
            raw.Bind("", "nap").Execute();
        if (copyAfter)
            raw.Parse("", "COPY flood_copy FROM STDIN").Bind("", "").Execute();
        else
            raw.Flush(); // left open: no Sync ends it
        await raw.FlushAsync();
        var ready = 0;
        while (await raw.ReadMessageAsync() is { } message && !(ready == quick && message.Code == 'C'))
        {
            if (message.Code == 'Z')
                ready++;
        }

        // Before, this waited for all 300 Executes.
        Assert.Equal(1, await other.ScalarAsync("SELECT 1"));
        var closing = await raw.ReadUntilClosedAsync();
        Assert.Single(closing, m => m.Code == 'E' && m.SqlState == "25P03");
        Assert.DoesNotContain(closing, m => m.Code == 'Z');
        // Ended while it ran (not once it had run and sat idle, which the idle limit ends after 5 s).
        Assert.True(closing.Count(m => m.Code == 'C') < 299, $"the flood ran to its end: {closing.Count(m => m.Code == 'C') + 1} of 300 Executes");
    }

    /// <summary>
    /// A client's batch with its Sync (Npgsql's NpgsqlBatch, pgjdbc's executeBatch) is one unit, as a simple Query of many
    /// statements is: it runs to its end though it goes to the engine in pieces and others wait, as Postgres runs it
    /// (statement_timeout bounds it). Only a flood left without a Sync, or many units inside a block, meet the pipeline limit.
    /// </summary>
    [Fact]
    public async Task A_batch_with_its_sync_inside_a_transaction_block_runs_to_its_end_while_others_wait()
    {
        // The default contended limit: the pipeline's limit is the 1 s short one under it all the same, and the test's own gap
        // between the batch's ReadyForQuery and its COMMIT (idle in the block, others waiting) may take more than 1 s on a
        // loaded CI runner, which ended the session under a 1 s limit.
        await using var block = await BlockUnderDefaultsAsync("CREATE TABLE batch_rows (i int)");
        var (other, raw) = (block.Other, block.Raw);
        raw.Parse("add", "INSERT INTO batch_rows SELECT 1 FROM pg_sleep(0.01)");
        const int rows = 300; // 3 s at least, in ClientBatch.MaxMessagesPerCall pieces
        for (var i = 0; i < rows; i++)
            raw.Bind("", "add").Execute();
        raw.Sync();
        await raw.FlushAsync();
        Assert.Equal('1', (await raw.ReadMessageAsync())!.Code); // ParseComplete: the batch runs
        var waiting = other.ScalarAsync("SELECT count(*) FROM batch_rows"); // waits behind the batch's transaction

        try
        {
            var replies = await raw.ReadUntilReadyAsync();
            Assert.DoesNotContain(replies, m => m.Code == 'E');
            Assert.Equal(rows, replies.Count(m => m.Code == 'C'));
            Assert.Equal((byte)'T', replies[^1].Body[0]); // still in the block
            var committed = await raw.Query("COMMIT").RoundTripAsync();
            Assert.Equal((byte)'I', committed[^1].Body[0]);
            Assert.Equal((long)rows, await waiting);
        }
        finally
        {
            // On a failure above, the waiting query ends (a session ended by the server rolls back): let it, for Npgsql hangs
            // when a connection is disposed under its query, and the failure would show as a hang instead of its message.
            await Task.WhenAny(waiting, Task.Delay(TimeSpan.FromSeconds(30)));
        }
    }

    /// <summary>
    /// A statement that comes by itself after the ones before it ran is a new request, not more of a pipeline, though the
    /// session found it already read: on a loaded machine a client that waits for each reply (pgbench's TPC-B, 8 clients, load
    /// ~18) has its next statement there by the time the session comes back for input, and was ended 1 s into its
    /// transaction. Here each statement is sent while the one before runs, so it is read as soon as that one is done.
    /// </summary>
    [Fact]
    public async Task Statements_that_each_come_alone_while_the_one_before_runs_are_not_ended_as_a_pipeline()
    {
        await using var block = await BlockUnderDefaultsAsync("CREATE TABLE alone_each (x int)");
        var (other, raw) = (block.Other, block.Raw);
        var waiting = other.ScalarAsync("SELECT 1"); // waits behind the block from here on
        const int statements = 4; // 2 s of statements: twice the short limit
        // One statement ahead at most: the next is sent 0.2 s into the one before (0.5 s each), and the one after it only once
        // the first's reply came and 0.2 s more passed, so when a statement ends exactly one is read after it, alone.
        var replies = new List<RawProtocolClient.Message>();
        var sent = 0;
        async Task SendNextAsync()
        {
            await Task.Delay(TimeSpan.FromSeconds(0.2)); // the spacing is what the test is about
            raw.Query($"INSERT INTO alone_each SELECT {sent++} FROM pg_sleep(0.5)");
            await raw.FlushAsync();
        }
        await SendNextAsync();
        await SendNextAsync();
        while (replies.Count(m => m.Code == 'Z') < statements && await raw.ReadMessageAsync() is { } message)
        {
            replies.Add(message);
            if (message.Code == 'Z' && sent < statements)
                await SendNextAsync();
        }
        try
        {
            Assert.DoesNotContain(replies, m => m.Code == 'E');
            var committed = await raw.Query("COMMIT").RoundTripAsync();
            Assert.Equal((byte)'I', committed[^1].Body[0]);
            Assert.Equal(1, await waiting);
            Assert.Equal((long)statements, await other.ScalarAsync("SELECT count(*) FROM alone_each"));
        }
        finally
        {
            await Task.WhenAny(waiting, Task.Delay(TimeSpan.FromSeconds(30))); // Npgsql hangs when disposed under its query
        }
    }

    /// <summary>A FunctionCall of pg_sleep(float8) with the argument 0.01 as text (the fuzzer's, oid 2626).</summary>
    private static readonly byte[] PgSleepCall = RawProtocolClient.TypedMessage('F',
        [0, 0, 0x0A, 0x42, 0, 1, 0, 0, 0, 1, 0, 0, 0, 4, (byte)'0', (byte)'.', (byte)'0', (byte)'1', 0, 0]);

    /// <summary>
    /// A failed transaction can only end: idle in one, a client gets the shorter of the contended limit and 1 s
    /// (SessionTimeouts.ShortLimit), here under the default 5 s. Issue 59's fuzzer: clients idle in aborted blocks until they
    /// dropped held the engine 1.1-2.2 s, the witness behind them.
    /// </summary>
    [Fact]
    public async Task A_client_idle_in_a_failed_transaction_that_others_wait_behind_is_ended_after_a_second()
    {
        await using var block = await BlockUnderDefaultsAsync("CREATE TABLE failed_block (x int)");
        var (other, raw) = (block.Other, block.Raw);
        var failed = await raw.Query("SELECT 1/0").RoundTripAsync();
        Assert.Equal((byte)'E', failed[^1].Body[0]);

        Assert.Equal(1, await other.ScalarAsync("SELECT 1"));
        var closing = await raw.ReadUntilClosedAsync();
        var fatal = Assert.Single(closing, m => m.Code == 'E' && m.SqlState == "25P03");
        Assert.Contains("failed transaction", fatal.MessageText);
        Assert.Equal(true, await other.ScalarAsync("SELECT to_regclass('failed_block') IS NULL")); // rolled back
    }

    [Fact]
    public async Task Alone_a_client_may_stay_idle_in_its_transaction_past_the_limit()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { ContendedIdleTimeout = Limit }, TestLogging.Factory);
        await using var idle = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await idle.OpenAsync();
        await idle.ExecAsync("BEGIN");
        await idle.ExecAsync("CREATE TABLE alone(x int)");
        var since = System.Diagnostics.Stopwatch.GetTimestamp();
        await Eventually.WaitUntilAsync(() => System.Diagnostics.Stopwatch.GetElapsedTime(since) > Limit * 3, "three limits have passed with nobody waiting");
        await idle.ExecAsync("COMMIT");
        Assert.Equal(0L, await idle.ScalarAsync("SELECT count(*) FROM alone"));
    }

    /// <summary>
    /// A server with the default limits (the contended one above the 1 s short one), another client connected, and a raw
    /// client whose block holds the engine from <paramref name="createTable"/> on.
    /// </summary>
    private static async Task<HeldBlock> BlockUnderDefaultsAsync(string createTable)
    {
        Assert.True(ZeroPgOptions.DefaultContendedIdleTimeout > SessionTimeouts.ShortLimit);
        var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        var other = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await other.OpenAsync();
        var raw = await RawProtocolClient.ConnectAsync(server);
        await raw.Query("BEGIN").RoundTripAsync();
        await raw.Query(createTable).RoundTripAsync();
        return new HeldBlock(server, other, raw);
    }

    private sealed record HeldBlock(ZeroPgServer Server, NpgsqlConnection Other, RawProtocolClient Raw) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Raw.DisposeAsync();
            await Other.DisposeAsync();
            await Server.DisposeAsync();
        }
    }
}
