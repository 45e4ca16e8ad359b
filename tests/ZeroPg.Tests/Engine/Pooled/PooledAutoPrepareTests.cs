using Npgsql;
using ZeroPg.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Engine.Pooled;

/// <summary>
/// The pool runs a repeated simple Query through a statement it prepared on the backend (src/ZeroPg/Engine/Pooled/AutoPreparedRuns.cs),
/// and the client cannot tell: the same reply bytes, the plain Query's answer after a schema change made outside ZeroPg, nothing
/// stale after a DISCARD ALL or a rolled-back change. One backend, over a PostgreSQL 15 the test reaches directly too.
/// </summary>
public sealed class PooledAutoPrepareTests
{
    /// <summary>The PostgreSQL 15 and the ZeroPg pooling it, stopped in that order's reverse.</summary>
    private sealed record PoolOverUpstream(NativePostgres Upstream, ZeroPgServer Server) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Server.DisposeAsync();
            await Upstream.DisposeAsync();
        }
    }

    private static async Task<PoolOverUpstream> StartAsync(bool autoPrepare = true)
    {
        var upstream = await NativePostgres.StartAsync();
        await upstream.ExecuteAsync("postgres", "CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(8,2)); INSERT INTO items VALUES (1, 'one', 1.50), (2, 'two', 2.25)");
        var server = await ZeroPgServer.StartAsync(new ZeroPgOptions
        {
            Engine = EngineKind.Postgres,
            Upstream = upstream.Url() + "?sslmode=disable",
            PoolSize = 1,
            AutoPrepare = autoPrepare,
        }, TestLogging.Factory);
        return new PoolOverUpstream(upstream, server);
    }

    /// <summary>The statements auto-prepare made on the pool's one backend, as the backend lists them.</summary>
    private static async Task<List<string>> PreparedAsync(RawProtocolClient client) =>
        (await client.Query("SELECT statement FROM pg_prepared_statements WHERE name LIKE 'zp\\_auto\\_%' ORDER BY prepare_time").RoundTripAsync())
            .Where(m => m.Code == 'D').Select(m => m.Columns()[0]!).ToList();

    [Fact]
    public async Task A_repeated_query_runs_prepared_on_the_backend_and_its_client_gets_the_same_bytes()
    {
        await using var pool = await StartAsync();
        var (upstream, server) = pool;
        await using var client = await RawProtocolClient.ConnectAsync(server);

        var plain = await client.Query("SELECT id, name, price FROM items WHERE id = 2").RoundTripAsync();
        var runsBefore = server.Metrics.AutoPreparedRuns;
        var prepared = await client.Query("SELECT id, name, price FROM items WHERE id = 2").RoundTripAsync();
        Assert.Equal(runsBefore + 1, server.Metrics.AutoPreparedRuns);
        Assert.Equal(Render(plain), Render(prepared)); // RowDescription, DataRow, CommandComplete, ReadyForQuery: byte for byte
        Assert.Equal(["two"], (await client.Query("SELECT id, name, price FROM items WHERE id = 2").RoundTripAsync()).Where(m => m.Code == 'D').Select(m => m.Columns()[1]));
        Assert.Equal("one", (await client.SingleRowAsync("SELECT id, name, price FROM items WHERE id = 1"))[1]); // other values, the same statement
        Assert.Contains("SELECT id, name, price FROM items WHERE id = $1::int4", await PreparedAsync(client));

        // A statement without rows, and one with none to return: no NoData, BindComplete or ParseComplete reaches the client.
        await client.Query("UPDATE items SET price = price + 1 WHERE id = 1").RoundTripAsync();
        var update = await client.Query("UPDATE items SET price = price + 1 WHERE id = 1").RoundTripAsync();
        Assert.Equal("C:UPDATE 1 Z:I", string.Join(' ', update.Select(Summary)));
        Assert.Equal(3.50m, await upstream.ScalarAsync<decimal>("postgres", "SELECT price FROM items WHERE id = 1"));
        var none = await client.Query("SELECT name FROM items WHERE id = 99").RoundTripAsync();
        Assert.Equal("T C:SELECT 0 Z:I", string.Join(' ', none.Select(Summary)));

        // A failing statement keeps its own error: it never ran without one, so it stays plain.
        for (var run = 0; run < 3; run++)
        {
            var failed = await client.Query("SELECT 10 / (price - price) FROM items WHERE id = 2").RoundTripAsync();
            Assert.Equal("22012", failed.Single(m => m.Code == 'E').SqlState);
        }
        Assert.DoesNotContain(await PreparedAsync(client), s => s.Contains("10 /"));
    }

    [Fact]
    public async Task A_column_added_outside_zeropg_gets_the_plain_querys_answer_not_a_stale_plans_error()
    {
        await using var pool = await StartAsync();
        var (upstream, server) = pool;
        await using var client = await RawProtocolClient.ConnectAsync(server);
        for (var run = 0; run < 2; run++)
            Assert.Equal(3, (await client.SingleRowAsync("SELECT * FROM items WHERE id = 1")).Length);
        Assert.Contains("SELECT * FROM items WHERE id = $1::int4", await PreparedAsync(client));

        // The backend's statement now fails with "cached plan must not change result type" (0A000): the pool sends the Query again.
        await upstream.ExecuteAsync("postgres", "ALTER TABLE items ADD COLUMN stock int DEFAULT 7");
        var row = await client.Query("SELECT * FROM items WHERE id = 1").RoundTripAsync();
        Assert.DoesNotContain(row, m => m.Code == 'E');
        Assert.Equal("1|one|1.50|7", string.Join("|", row.Single(m => m.Code == 'D').Columns()));

        // Inside a block a failure would end the block: a * is not prepared there, so a column added before the block first reads
        // the table changes nothing (the text ran prepared just before).
        for (var run = 0; run < 2; run++)
            Assert.Equal(4, (await client.SingleRowAsync("SELECT * FROM items WHERE id = 1")).Length);
        Assert.Equal("C:BEGIN Z:T", string.Join(' ', (await client.Query("BEGIN").RoundTripAsync()).Select(Summary)));
        Assert.Equal("2", (await client.SingleRowAsync("SELECT 2"))[0]);
        await upstream.ExecuteAsync("postgres", "ALTER TABLE items ADD COLUMN colour text");
        var inBlock = await client.Query("SELECT * FROM items WHERE id = 1").RoundTripAsync();
        Assert.DoesNotContain(inBlock, m => m.Code == 'E');
        Assert.Equal(5, inBlock.Single(m => m.Code == 'D').Columns().Length);
        Assert.Equal("C:COMMIT Z:I", string.Join(' ', (await client.Query("COMMIT").RoundTripAsync()).Select(Summary)));

        // A block's statements with their columns named run prepared.
        var runsBefore = server.Metrics.AutoPreparedRuns;
        await client.Query("BEGIN").RoundTripAsync();
        Assert.Equal("two", (await client.SingleRowAsync("SELECT name FROM items WHERE id = 2"))[0]);
        Assert.Equal("two", (await client.SingleRowAsync("SELECT name FROM items WHERE id = 2"))[0]);
        await client.Query("COMMIT").RoundTripAsync();
        Assert.Equal(runsBefore + 1, server.Metrics.AutoPreparedRuns);
    }

    [Fact]
    public async Task A_deallocate_all_or_a_rolled_back_schema_change_through_the_pool_leaves_no_stale_statement()
    {
        await using var pool = await StartAsync();
        var (upstream, server) = pool;
        await using var client = await RawProtocolClient.ConnectAsync(server);
        for (var run = 0; run < 2; run++)
            Assert.Equal("one", (await client.SingleRowAsync("SELECT name FROM items WHERE id = 1"))[0]);

        // DEALLOCATE ALL takes the backend's statements. Inside a block a run of one would fail the block (26000), as no run
        // sent again can hide it there: the next run prepares afresh.
        Assert.DoesNotContain(await client.Query("DEALLOCATE ALL").RoundTripAsync(), m => m.Code == 'E');
        Assert.Empty(await PreparedAsync(client));
        await AssertBlockReadsAsync(client, "one");

        // A change made through the pool, in a block that rolls back: nothing prepared inside it outlives it.
        await client.Query("BEGIN").RoundTripAsync();
        await client.Query("ALTER TABLE items ALTER COLUMN name TYPE varchar(10)").RoundTripAsync();
        for (var run = 0; run < 2; run++)
            Assert.Equal("varchar", TypeOf(await client.Query("SELECT name FROM items WHERE id = 1").RoundTripAsync()));
        await client.Query("ROLLBACK").RoundTripAsync();
        await AssertBlockReadsAsync(client, "one");
        Assert.Equal("text", TypeOf(await client.Query("SELECT name FROM items WHERE id = 1").RoundTripAsync()));

        // DISCARD ALL, Npgsql's reset of a connection it pools, as well.
        Assert.DoesNotContain(await client.Query("DISCARD ALL").RoundTripAsync(), m => m.Code == 'E');
        await AssertBlockReadsAsync(client, "one");
    }

    /// <summary>A block reads the name of item 1 twice (the second run prepared) without an error, and commits.</summary>
    private static async Task AssertBlockReadsAsync(RawProtocolClient client, string name)
    {
        await client.Query("BEGIN").RoundTripAsync();
        for (var run = 0; run < 2; run++)
        {
            var replies = await client.Query("SELECT name FROM items WHERE id = 1").RoundTripAsync();
            Assert.DoesNotContain(replies, m => m.Code == 'E');
            Assert.Equal(name, replies.Single(m => m.Code == 'D').Columns()[0]);
        }
        Assert.Equal("C:COMMIT Z:I", string.Join(' ', (await client.Query("COMMIT").RoundTripAsync()).Select(Summary)));
    }

    /// <summary>The type of a one-column RowDescription's column: text or varchar.</summary>
    private static string TypeOf(List<RawProtocolClient.Message> replies)
    {
        Assert.DoesNotContain(replies, m => m.Code == 'E');
        // After the column's name: table OID (4), attribute number (2), type OID (4), size (2), modifier (4), format (2).
        var type = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(replies.Single(m => m.Code == 'T').Body.AsSpan(^12));
        return type switch { 25 => "text", 1043 => "varchar", _ => type.ToString() };
    }

    [Fact]
    public async Task A_query_the_backend_skips_inside_a_failed_extended_sequence_leaves_every_later_reply_whole()
    {
        await using var pool = await StartAsync();
        var (upstream, server) = pool;
        await using var client = await RawProtocolClient.ConnectAsync(server);
        Assert.Equal("one", (await client.SingleRowAsync("SELECT name FROM items WHERE id = 1"))[0]);

        // Postgres skips the Query up to the Sync after the failed Parse: one ReadyForQuery answers both.
        var skipped = await client.Parse("", "SELECT no_such_column FROM items").Query("SELECT name FROM items WHERE id = 1").Sync().RoundTripAsync();
        Assert.Equal("E:42703 Z:I", string.Join(' ', skipped.Select(Summary)));
        for (var run = 0; run < 4; run++)
            Assert.Equal("T D C:SELECT 1 Z:I", string.Join(' ', (await client.Query("SELECT name FROM items WHERE id = 1").RoundTripAsync()).Select(Summary)));
    }

    [Fact]
    public async Task With_auto_prepare_off_queries_go_to_the_backend_as_they_came()
    {
        await using var pool = await StartAsync(autoPrepare: false);
        var (upstream, server) = pool;
        await using var client = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await client.OpenAsync();
        for (var run = 0; run < 3; run++)
            Assert.Equal("two", await client.TextAsync("SELECT name FROM items WHERE id = 2"));
        await using var raw = await RawProtocolClient.ConnectAsync(server);
        for (var run = 0; run < 3; run++)
            await raw.Query("SELECT name FROM items WHERE id = 2").RoundTripAsync();
        Assert.Empty(await PreparedAsync(raw));
        Assert.Equal(0, server.Metrics.AutoPreparedRuns);
    }

    private static string Render(List<RawProtocolClient.Message> replies) =>
        string.Join('|', replies.Select(m => m.Code + Convert.ToHexString(m.Body)));

    private static string Summary(RawProtocolClient.Message m) => m.Code switch
    {
        'C' => "C:" + m.BodyText.TrimEnd('\0'),
        'Z' => "Z:" + (char)m.Body[0],
        'E' => "E:" + m.SqlState,
        _ => m.Code.ToString(),
    };
}
