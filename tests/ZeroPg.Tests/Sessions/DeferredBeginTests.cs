using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>
/// A plain BEGIN sent alone is answered at once and reaches the engine with the client's next
/// statement, so the engine is not held across that round trip. Everything a client can observe
/// must stay as in Postgres.
/// </summary>
public sealed class DeferredBeginTests
{
    private static Task<ZeroPgServer> StartAsync() => ZeroPgServer.StartAsync(
        new ZeroPgOptions { QueueWaitTimeout = TimeSpan.FromSeconds(1), QueueWaitNotice = TimeSpan.Zero }, TestLogging.Factory);

    [Fact]
    public async Task A_BEGIN_alone_does_not_hold_the_engine_but_the_next_statement_does()
    {
        await using var server = await StartAsync();
        await using var other = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await other.OpenAsync();
        await Exec(other, "create table deferred_begin (id int)");
        await using var client = await RawProtocolClient.ConnectAsync(server);

        var begun = await client.Query("BEGIN").RoundTripAsync();
        Assert.Equal("BEGIN", CommandTag(begun));
        Assert.Equal('T', Status(begun));

        // The engine is free: another client's statement runs instead of timing out in the queue (57014).
        await Exec(other, "insert into deferred_begin values (2)");

        var inserted = await client.Query("insert into deferred_begin values (1)").RoundTripAsync();
        Assert.Equal("INSERT 0 1", CommandTag(inserted));
        Assert.Equal('T', Status(inserted));

        // Now the transaction is real and holds the engine, as it must.
        var waited = await Assert.ThrowsAsync<PostgresException>(() => Exec(other, "select 1"));
        Assert.Equal("57014", waited.SqlState);

        var rolledBack = await client.Query("ROLLBACK").RoundTripAsync();
        Assert.Equal('I', Status(rolledBack));
        Assert.Equal("2", await Scalar(other, "select string_agg(id::text, ',') from deferred_begin"));
    }

    [Fact]
    public async Task Deferred_BEGIN_keeps_Postgres_replies_for_nested_BEGIN_errors_and_commit()
    {
        await using var server = await StartAsync();
        await using var client = await RawProtocolClient.ConnectAsync(server);
        await client.Query("create table deferred_semantics (id int)").RoundTripAsync();

        await client.Query("begin transaction;").RoundTripAsync();
        var nested = await client.Query("BEGIN").RoundTripAsync();
        Assert.Contains(nested, m => m.Code == 'N' && m.SqlState == "25001"); // there is already a transaction in progress
        Assert.Equal('T', Status(nested));

        var failed = await client.Query("select 1/0").RoundTripAsync();
        Assert.Contains(failed, m => m.Code == 'E' && m.SqlState == "22012");
        Assert.Equal('E', Status(failed));
        var ignored = await client.Query("select 1").RoundTripAsync();
        Assert.Contains(ignored, m => m.Code == 'E' && m.SqlState == "25P02");
        Assert.Equal('I', Status(await client.Query("ROLLBACK").RoundTripAsync()));

        Assert.Equal("START TRANSACTION", CommandTag(await client.Query("START TRANSACTION").RoundTripAsync())); // Postgres's tag, not BEGIN's
        await client.Query("insert into deferred_semantics values (1)").RoundTripAsync();
        var committed = await client.Query("COMMIT").RoundTripAsync();
        Assert.Equal("COMMIT", CommandTag(committed));

        // BEGIN then COMMIT with nothing between is still a transaction that commits.
        await client.Query("BEGIN WORK").RoundTripAsync();
        Assert.Equal("COMMIT", CommandTag(await client.Query("COMMIT").RoundTripAsync()));

        var count = await client.Query("select count(*) from deferred_semantics").RoundTripAsync();
        Assert.Equal("1", count.Single(m => m.Code == 'D').Columns()[0]);
    }

    [Fact]
    public async Task A_client_that_leaves_after_a_deferred_BEGIN_leaves_nothing_behind()
    {
        await using var server = await StartAsync();
        var client = await RawProtocolClient.ConnectAsync(server);
        await client.Query("BEGIN").RoundTripAsync();
        client.Kill();

        await using var next = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await next.OpenAsync();
        await Exec(next, "create table after_leave (id int)");
        await Exec(next, "insert into after_leave values (1)");

        // Had the BEGIN reached the engine and stayed open, the insert would sit in that transaction, unseen by others.
        await using var third = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await third.OpenAsync();
        Assert.Equal("1", await Scalar(third, "select count(*) from after_leave"));
        Assert.Equal("False", await Scalar(third, "select txid_current_if_assigned() is not null"));
    }

    [Fact]
    public async Task COPY_after_a_deferred_BEGIN_runs_inside_the_transaction()
    {
        await using var server = await StartAsync();
        var result = await ExternalTool.RunAsync("psql", [server.Url, "-XAtq", "-v", "ON_ERROR_STOP=1"], """
            create table deferred_copy (id int);
            BEGIN;
            \copy deferred_copy from stdin
            1
            2
            \.
            select count(*) from deferred_copy;
            ROLLBACK;
            select 'after', count(*) from deferred_copy;
            """);
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Equal(["2", "after|0"], result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task A_prepared_BEGIN_is_deferred_too_and_a_prepared_COMMIT_ends_the_transaction()
    {
        await using var server = await StartAsync();
        await using var other = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await other.OpenAsync();
        await Exec(other, "create table prepared_begin (id int)");
        await using var client = await RawProtocolClient.ConnectAsync(server);
        await client.Parse("b", "BEGIN;").Parse("i", "insert into prepared_begin values ($1)", 23).Parse("c", "END;").Sync().RoundTripAsync();

        // pgbench -M prepared: Bind, Describe portal, Execute, Sync. Answered in that order, without the engine.
        var begun = await client.Bind("", "b").Bytes(RawProtocolClient.TypedMessage('D', [(byte)'P', 0])).Execute().Sync().RoundTripAsync();
        Assert.Equal("2 , n , C BEGIN, Z T", RawProtocolClient.Describe(begun));
        await Exec(other, "insert into prepared_begin values (2)"); // the engine is free

        // A prepared statement needs no engine to be prepared again inside the (deferred) transaction.
        var prepared = await client.Parse("i2", "insert into prepared_begin values ($1)", 23).Sync().RoundTripAsync();
        Assert.Equal('T', Status(prepared));

        var inserted = await client.Bind("", "i", "1").Execute().Sync().RoundTripAsync();
        Assert.Equal("INSERT 0 1", CommandTag(inserted));
        var waited = await Assert.ThrowsAsync<PostgresException>(() => Exec(other, "select 1"));
        Assert.Equal("57014", waited.SqlState); // the transaction is real now

        var committed = await client.Bind("", "c").Execute().Sync().RoundTripAsync();
        Assert.Equal("COMMIT", CommandTag(committed));
        Assert.Equal('I', Status(committed));
        Assert.Equal("1,2", await Scalar(other, "select string_agg(id::text, ',' order by id) from prepared_begin"));
    }

    private static string? CommandTag(List<RawProtocolClient.Message> messages)
        => messages.Single(m => m.Code == 'C').Body is var body ? System.Text.Encoding.UTF8.GetString(body).TrimEnd('\0') : null;

    private static char Status(List<RawProtocolClient.Message> messages) => (char)messages[^1].Body[0];

    private static async Task Exec(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<string?> Scalar(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (await command.ExecuteScalarAsync())?.ToString();
    }
}
