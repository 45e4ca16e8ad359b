using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>
/// What PGlite cannot do fails with a Postgres error naming why, and never leaves the shared engine waiting:
/// device files (reading /dev/random blocked the engine forever), two-phase commit (disabled in PGlite, once
/// misread as a statement named "transaction"), dblink/postgres_fdw (not shipped), a lock the shared session holds.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class UnservableStatementsTests(ServerFixture fixture)
{
    [Theory]
    [InlineData("copy unservable_t from '/dev/random' with (format binary)")]
    [InlineData("copy unservable_t from '../../dev//./random'")]
    [InlineData("select length(pg_read_binary_file('/dev/random', 0, 10))")]
    [InlineData("select lo_import($$/dev/random$$)")]
    [InlineData("copy unservable_t to '/dev/stdout'")]
    public async Task A_device_file_is_refused_with_0A000_through_both_protocols(string sql)
    {
        await using var connection = await fixture.OpenAsync();
        await using (var create = new NpgsqlCommand("create table if not exists unservable_t (a text)", connection))
            await create.ExecuteNonQueryAsync();
        await using (var extended = new NpgsqlCommand(sql, connection) { CommandTimeout = 15 })
            AssertDeviceRefusal(await Assert.ThrowsAsync<PostgresException>(() => extended.ExecuteNonQueryAsync()));

        var psql = await ExternalTool.RunAsync("psql", [fixture.Url, "-XAt", "-c", sql], timeout: TimeSpan.FromSeconds(30));
        Assert.NotEqual(0, psql.ExitCode);
        Assert.Contains("ZeroPg does not let SQL read or write device files", psql.All);
        await AssertServedAsync();
    }

    [Fact]
    public async Task A_create_database_sent_by_parse_and_ended_by_flush_is_answered_and_the_connection_goes_on()
    {
        // Found by the fuzzer: ZeroPg looked for the Sync of a CREATE DATABASE unit past the messages it held, and the
        // connection ended with an unhandled exception. A unit ended by Flush is the engine's to answer.
        await using var client = await RawProtocolClient.ConnectAsync(fixture.Server);
        await client.Parse("", "create database fuzz_flush_db").Bind("", "").Execute().Flush().FlushAsync();
        var first = await client.ReadMessageAsync(TimeSpan.FromSeconds(15));
        Assert.NotNull(first);
        var rest = await client.Sync().RoundTripAsync(TimeSpan.FromSeconds(15));
        Assert.Equal('Z', rest[^1].Code);
        Assert.Equal("still here", (await client.SingleRowAsync("select 'still here'"))[0]);
    }

    [Fact]
    public async Task A_string_that_merely_looks_like_a_device_path_is_data()
    {
        await using var connection = await fixture.OpenAsync();
        await using var command = new NpgsqlCommand("select '/dev/random'", connection);
        Assert.Equal("/dev/random", await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Prepare_transaction_gets_postgres_error_that_prepared_transactions_are_disabled()
    {
        await using var connection = await fixture.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var prepare = new NpgsqlCommand("prepare transaction 'zp_gid'", connection, transaction) { CommandTimeout = 15 };
        var error = await Assert.ThrowsAsync<PostgresException>(() => prepare.ExecuteNonQueryAsync());
        Assert.Equal("55000", error.SqlState);
        Assert.Contains("prepared transactions are disabled", error.MessageText);
        // As in Postgres, the failed PREPARE TRANSACTION ended the transaction: the connection is idle and serves.
        await using var next = new NpgsqlCommand("select 1", connection);
        Assert.Equal(1, await next.ExecuteScalarAsync());
        await AssertServedAsync();
    }

    [Theory]
    [InlineData("dblink")]
    [InlineData("postgres_fdw")]
    public async Task Foreign_connection_extensions_are_refused_naming_why(string extension)
    {
        await using var connection = await fixture.OpenAsync("Include Error Detail=true");
        await using var create = new NpgsqlCommand($"create extension {extension}", connection) { CommandTimeout = 15 };
        var error = await Assert.ThrowsAsync<PostgresException>(() => create.ExecuteNonQueryAsync());
        Assert.Contains($"\"{extension}\" is not available", error.MessageText);
        Assert.Contains("PGlite", error.Detail);
        await AssertServedAsync();
    }

    [Fact]
    public async Task A_lock_held_by_another_client_is_waited_for_and_then_granted_never_a_self_wait()
    {
        await using var holder = await fixture.OpenAsync();
        await using (var create = new NpgsqlCommand("create table if not exists unservable_lock_t (a int)", holder))
            await create.ExecuteNonQueryAsync();
        await using var transaction = await holder.BeginTransactionAsync();
        await using (var take = new NpgsqlCommand("lock table unservable_lock_t in access exclusive mode", holder, transaction))
            await take.ExecuteNonQueryAsync();

        await using var waiter = await fixture.OpenAsync();
        await using var wait = new NpgsqlCommand(
            "begin; lock table unservable_lock_t in access exclusive mode; "
            + "select count(*) from pg_locks where relation = 'unservable_lock_t'::regclass and mode = 'AccessExclusiveLock' and granted; commit",
            waiter) { CommandTimeout = 30 };
        var waiting = wait.ExecuteScalarAsync();
        // One engine session: the waiter waits for the holder's transaction to end, then takes the lock; a wait for the lock inside
        // the engine would be a wait on itself and never end. (NOWAIT fails at once here with 55P03, as on Postgres: Waiting/QueueTimeoutTests.)
        await Eventually.QueuedAsync(fixture.Server);
        Assert.False(waiting.IsCompleted);
        await transaction.CommitAsync();
        Assert.Equal(1L, await waiting.WaitAsync(TimeSpan.FromSeconds(30))); // granted once the holder committed
    }

    private static void AssertDeviceRefusal(PostgresException error)
    {
        Assert.Equal("0A000", error.SqlState);
        Assert.Equal("ZeroPg does not let SQL read or write device files", error.MessageText);
        Assert.NotNull(error.Hint);
    }

    private async Task AssertServedAsync()
    {
        await using var other = await fixture.OpenAsync();
        await using var command = new NpgsqlCommand("select 'served'", other) { CommandTimeout = 15 };
        Assert.Equal("served", await command.ExecuteScalarAsync());
    }
}
