using Npgsql;
using Xunit.Abstractions;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Replication;

/// <summary>
/// Non-transactional logical messages outlive whatever undoes their transaction, as on Postgres: a ROLLBACK, a ROLLBACK TO
/// SAVEPOINT inside a transaction that commits, the failing statement of an implicit transaction, a client that leaves in the
/// middle of its transaction, and a call inside a function body. The same steps on native PostgreSQL 15 and on ZeroPg, decoded
/// with pg_logical_slot_peek_binary_changes on both and through ZeroPg's walsender, compared message by message.
/// </summary>
[Trait("Category", "Slow")]
public sealed class NonTransactionalMessageTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Options = "'proto_version', '1', 'publication_names', 'pub', 'messages', 'true'";

    private readonly ReferencePair _servers = new([], new ZeroPgOptions(), commandTimeoutSeconds: 30);

    public Task InitializeAsync() => _servers.StartAsync();

    public Task DisposeAsync() => _servers.StopAsync();

    [Fact]
    public async Task Messages_outlive_rollbacks_savepoints_failed_statements_and_clients_that_leave_as_on_postgres_15()
    {
        await RunStepsAsync(_servers.Postgres);
        await RunStepsAsync(_servers.ZeroPg);

        var expected = new PgOutputText().Describe(await PeekAsync(_servers.Postgres));
        output.WriteLine(string.Join("\n", expected));
        foreach (var survivor in new[] { "outlives its rollback", "outlives its savepoint", "outlives its failed statement", "outlives its client", "outlives its function's rollback" })
            Assert.Contains(expected, m => m.EndsWith(Convert.ToHexString(System.Text.Encoding.UTF8.GetBytes(survivor)), StringComparison.Ordinal)); // Postgres's, before comparing with it

        Assert.Equal(expected, new PgOutputText().Describe(await PeekAsync(_servers.ZeroPg)));
        var ended = false;
        var streamed = await RawPgOutput.StreamAsync(_servers.ZeroPg, "nt", [new("proto_version", "1"), new("publication_names", "pub"), new("messages", "true")],
            message => (ended |= message[0] == 'M' && message.AsSpan().IndexOf("end\0"u8) == 10) && message[0] == 'C');
        Assert.Equal(expected, new PgOutputText().Describe(streamed));
    }

    private static async Task RunStepsAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var notices = new List<string>();
        connection.Notice += (_, e) => notices.Add(e.Notice.SqlState);
        foreach (var sql in new[]
        {
            "SET client_min_messages = error", // ZeroPg's announcement of each message to itself is sent all the same
            "CREATE TABLE t (id int PRIMARY KEY, v text)",
            "CREATE PUBLICATION pub FOR TABLE t",
            "CREATE FUNCTION announce(text) RETURNS void LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_logical_emit_message(false, 'f', $1); END $$",
            "SELECT slot_name FROM pg_create_logical_replication_slot('nt', 'pgoutput')",
            "INSERT INTO t VALUES (1, 'before')",
            "BEGIN", "INSERT INTO t VALUES (2, 'rolled back')", "SELECT pg_logical_emit_message(false, 'p', 'outlives its rollback')", "ROLLBACK",
            "BEGIN", "INSERT INTO t VALUES (3, 'kept')", "SAVEPOINT s", "SELECT pg_logical_emit_message(false, 'p', 'outlives its savepoint')",
            "INSERT INTO t VALUES (4, 'undone with the savepoint')", "ROLLBACK TO SAVEPOINT s", "INSERT INTO t VALUES (5, 'kept too')", "COMMIT",
            "BEGIN", "INSERT INTO t VALUES (6, 'committed')", "SELECT pg_logical_emit_message(false, 'p', 'inside a commit')", "COMMIT",
            "BEGIN", "SELECT announce('outlives its function''s rollback')", "ROLLBACK",
        })
            await connection.ExecAsync(sql);

        var failed = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecAsync("SELECT pg_logical_emit_message(false, 'p', 'outlives its failed statement'), 1 / (random() * 0)::int"));
        Assert.Equal("22012", failed.SqlState);

        // A client that leaves mid-transaction: its transaction rolls back when it is gone.
        await using (var leaver = new NpgsqlConnection(connectionString + ";Application Name=leaver;Pooling=false"))
        {
            await leaver.OpenAsync();
            await leaver.ExecAsync("BEGIN");
            await leaver.ExecAsync("INSERT INTO t VALUES (7, 'left')");
            await leaver.ExecAsync("SELECT pg_logical_emit_message(false, 'p', 'outlives its client')");
        }
        await Eventually.WaitUntilAsync(async () => await connection.TextAsync("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'leaver'") == "0",
            "the leaving client's session gone", TimeSpan.FromSeconds(30));

        await connection.ExecAsync("INSERT INTO t VALUES (8, 'after')");
        await connection.ExecAsync("SELECT pg_logical_emit_message(true, 'end', 'done')");
        Assert.Empty(notices); // and it never reaches the client
    }

    private static async Task<List<byte[]>> PeekAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        return await RawPgOutput.PeekAsync(connection, "nt", Options);
    }
}
