using Npgsql;
using Xunit.Abstractions;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Replication;

/// <summary>
/// Protocol 2 streaming of a large transaction, PostgreSQL 15 (logical_decoding_work_mem=64kB) against ZeroPg's SQL slot functions
/// and its walsender (Npgsql's raw XLogData API), both with logical_decoding_work_mem=64kB from the client's session. Where the
/// blocks end is each server's own (PG counts its reorder buffer's memory), so consecutive blocks are joined before comparing;
/// everything else must match: Stream Start/Stop/Commit instead of Begin/Commit, every message inside carrying the Stream
/// Commit's xid, Relation messages sent again inside the streamed transaction, the small transactions around it still whole.
/// </summary>
[Trait("Category", "Slow")]
public sealed class StreamedTransactionDifferentialTests(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>A small transaction (small's Relation goes out), a large one (~450kB of decoded changes: inserts, a transactional
    /// and a non-transactional message, an insert into small, updates, deletes), then two small ones (no Relation again).</summary>
    private const string Workload = """
        CREATE TABLE big (id int PRIMARY KEY, v text);
        CREATE TABLE small (id int PRIMARY KEY, v text);
        CREATE PUBLICATION pub FOR TABLE big, small;
        SELECT slot_name FROM pg_create_logical_replication_slot('streamed', 'pgoutput');
        INSERT INTO small VALUES (1, 'before');
        BEGIN;
        INSERT INTO big SELECT g, repeat('x', 20) || g FROM generate_series(1, 3000) g;
        SELECT pg_logical_emit_message(true, 'p', 'in the stream');
        SELECT pg_logical_emit_message(false, 'p', 'loose');
        INSERT INTO small VALUES (2, 'inside');
        UPDATE big SET v = 'y' WHERE id <= 1000;
        DELETE FROM big WHERE id > 2900;
        COMMIT;
        INSERT INTO small VALUES (3, 'after');
        INSERT INTO big VALUES (0, 'after')
        """;

    private const string Streaming = "'proto_version', '2', 'publication_names', 'pub', 'messages', 'true', 'streaming', 'on'";

    private readonly ReferencePair _servers = new(["logical_decoding_work_mem=64kB"], new ZeroPgOptions(), commandTimeoutSeconds: 120);

    public Task InitializeAsync() => _servers.StartAsync();

    public Task DisposeAsync() => _servers.StopAsync();

    [Fact]
    public async Task A_large_transaction_is_streamed_in_blocks_as_postgres_15_streams_it()
    {
        var postgres = _servers.Postgres;
        var zeropg = _servers.ZeroPg;
        await RunWorkloadAsync(postgres);
        await RunWorkloadAsync(zeropg);

        var fromPostgres = new PgOutputText().Describe(await PeekAsync(postgres, Streaming));
        output.WriteLine(string.Join("\n", fromPostgres.Where(m => !m.StartsWith("I big", StringComparison.Ordinal) && !m.StartsWith("U big", StringComparison.Ordinal))));
        Assert.Contains("S first=0", fromPostgres); // more than one block
        var expected = JoinBlocks(fromPostgres);
        Assert.Equal(["B", "R public.small d [1:id:23:-1, 0:v:25:-1]", "I small N[t:1, t:before]", "C flags=0", "M flags=0 p 6C6F6F7365", "S first=1",
            "R public.big d [1:id:23:-1, 0:v:25:-1] @stream"], expected[..7]);
        Assert.Contains("R public.small d [1:id:23:-1, 0:v:25:-1] @stream", expected); // described again inside the streamed transaction
        Assert.Contains("M flags=1 p 696E207468652073747265616D @stream", expected);
        Assert.Equal(["E", "c @stream flags=0", "B", "I small N[t:3, t:after]", "C flags=0", "B", "I big N[t:0, t:after]", "C flags=0"], expected[^8..]);

        var peeked = new PgOutputText().Describe(await PeekAsync(zeropg, Streaming, workMem: "64kB"));
        Assert.Contains("S first=0", peeked); // its blocks are bounded too
        Assert.Equal(expected, JoinBlocks(peeked));
        var streamed = new PgOutputText().Describe(await StreamAsync(zeropg + ";Options=-c logical_decoding_work_mem=64kB", streaming: true));
        Assert.Contains("S first=0", streamed);
        Assert.Equal(expected, JoinBlocks(streamed));
    }

    [Fact]
    public async Task Without_streaming_or_under_the_limit_the_large_transaction_comes_whole_and_protocols_too_low_are_refused()
    {
        var postgres = _servers.Postgres;
        var zeropg = _servers.ZeroPg;
        await RunWorkloadAsync(postgres);
        await RunWorkloadAsync(zeropg);

        const string protocol1 = "'proto_version', '1', 'publication_names', 'pub', 'messages', 'true'";
        const string streamingOff = "'proto_version', '2', 'publication_names', 'pub', 'messages', 'true', 'streaming', 'off'";
        var whole = new PgOutputText().Describe(await PeekAsync(postgres, protocol1));
        Assert.DoesNotContain(whole, m => m.StartsWith('S'));
        Assert.Equal(whole, new PgOutputText().Describe(await PeekAsync(postgres, streamingOff)));
        Assert.Equal(whole, new PgOutputText().Describe(await PeekAsync(zeropg, protocol1, workMem: "64kB")));
        Assert.Equal(whole, new PgOutputText().Describe(await PeekAsync(zeropg, streamingOff, workMem: "64kB")));
        Assert.Equal(whole, new PgOutputText().Describe(await StreamAsync(zeropg + ";Options=-c logical_decoding_work_mem=64kB", streaming: false)));
        // Postgres's default logical_decoding_work_mem (64MB) is far above this transaction.
        Assert.Equal(whole, new PgOutputText().Describe(await PeekAsync(zeropg, Streaming)));
        Assert.Equal(whole, new PgOutputText().Describe(await StreamAsync(zeropg, streaming: true)));

        // pgoutput's startup checks: streaming needs protocol 2, parallel streaming 4 (Postgres 16+).
        var error = await Assert.ThrowsAsync<PostgresException>(() => PeekAsync(zeropg, "'proto_version', '1', 'publication_names', 'pub', 'streaming', 'on'"));
        Assert.Equal(("0A000", "requested proto_version=1 does not support streaming, need 2 or higher"), (error.SqlState, error.MessageText));
        error = await Assert.ThrowsAsync<PostgresException>(() => PeekAsync(zeropg, "'proto_version', '3', 'publication_names', 'pub', 'streaming', 'parallel'"));
        Assert.Equal(("0A000", "requested proto_version=3 does not support parallel streaming, need 4 or higher"), (error.SqlState, error.MessageText));
        var parallel = new PgOutputText().Describe(await PeekAsync(zeropg, "'proto_version', '4', 'publication_names', 'pub', 'streaming', 'parallel'", workMem: "64kB"));
        Assert.Contains("c @stream flags=0", parallel);
    }

    /// <summary>One streamed transaction's blocks as one: a Stream Stop followed by the next Stream Start goes, and a
    /// non-transactional message Postgres decoded between two blocks (at its place in the WAL) moves ahead of the first, where
    /// ZeroPg, which reads the transaction only after its commit, sends it.</summary>
    private static List<string> JoinBlocks(List<string> messages)
    {
        var joined = new List<string>();
        var firstBlock = -1;
        foreach (var message in messages)
        {
            if (message == "S first=1")
                firstBlock = joined.Count;
            else if (message == "S first=0" && joined[^1] == "E")
            {
                joined.RemoveAt(joined.Count - 1);
                continue;
            }
            else if (message.StartsWith("c ", StringComparison.Ordinal))
                firstBlock = -1;
            else if (firstBlock >= 0 && message.StartsWith("M flags=0", StringComparison.Ordinal))
            {
                joined.Insert(firstBlock++, message);
                continue;
            }
            joined.Add(message);
        }
        return joined;
    }

    private static async Task RunWorkloadAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        foreach (var statement in Workload.Split(";\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            await connection.ExecAsync(statement);
    }

    private static async Task<List<byte[]>> PeekAsync(string connectionString, string options, string? workMem = null)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        if (workMem is not null)
            await connection.ExecAsync($"SET logical_decoding_work_mem = '{workMem}'");
        return await RawPgOutput.PeekAsync(connection, "streamed", options);
    }

    /// <summary>ZeroPg's walsender from the slot's start, up to the workload's last Commit (the fourth).</summary>
    private static Task<List<byte[]>> StreamAsync(string connectionString, bool streaming)
    {
        var commits = 0;
        return RawPgOutput.StreamAsync(connectionString, "streamed",
            [new("proto_version", streaming ? "2" : "1"), new("publication_names", "pub"), new("messages", "true"), .. streaming ? [new KeyValuePair<string, string?>("streaming", "on")] : Array.Empty<KeyValuePair<string, string?>>()],
            message => message[0] is (byte)'C' or (byte)'c' && ++commits == 4);
    }
}
