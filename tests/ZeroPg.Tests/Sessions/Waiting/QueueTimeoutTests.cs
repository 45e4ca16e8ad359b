using System.Diagnostics;
using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions.Waiting;

/// <summary>
/// A statement behind another client's open transaction that holds its row, on ZeroPg and on native PostgreSQL 15: lock_timeout
/// (SET LOCAL in an Npgsql transaction, startup options), statement_timeout and NOWAIT end the wait with the same SQLSTATE, well
/// before the holder's transaction ends (on ZeroPg the wait is for the shared engine), and the statement never runs.
/// </summary>
public sealed class QueueTimeoutTests(QueueTimeoutTests.Servers servers) : IClassFixture<QueueTimeoutTests.Servers>
{
    /// <summary>Native PostgreSQL 15 and ZeroPg, started once for the class (each test uses tables of its own).</summary>
    public sealed class Servers : ServersSideBySide;

    private string Url(bool zeropg, string extra = "")
        => (zeropg ? servers.ZeroPg.GetConnectionString() : servers.Postgres.ConnectionString()) + ";Pooling=false;Timeout=30;Command Timeout=30" + extra;

    public static TheoryData<bool> Both => new() { false, true };

    [Theory]
    [MemberData(nameof(Both))]
    public async Task Set_local_lock_timeout_in_a_transaction_fails_with_55P03_then_25P02(bool zeropg)
    {
        await using var holder = await HoldRowAsync(zeropg, "lt");
        await using var waiter = await OpenAsync(zeropg);
        await using var tx = await waiter.BeginTransactionAsync();
        await Exec(waiter, "SET LOCAL lock_timeout = '300ms'");
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<PostgresException>(() => Exec(waiter, "UPDATE lt SET v = 100 WHERE id = 1"));
        Assert.Equal("55P03", error.SqlState);
        Assert.Equal("canceling statement due to lock timeout", error.MessageText);
        Assert.InRange(clock.ElapsedMilliseconds, 250, 3000);
        var after = await Assert.ThrowsAsync<PostgresException>(() => Exec(waiter, "SELECT 1"));
        Assert.Equal("25P02", after.SqlState);
        await tx.RollbackAsync(); // answered at once: nothing of the transaction reached the engine
        await holder.DisposeAsync();
        Assert.Equal(1, await Scalar<int>(waiter, "SELECT v FROM lt WHERE id = 1")); // the holder's update rolled back; ours never ran
    }

    [Theory]
    [MemberData(nameof(Both))]
    public async Task Startup_lock_timeout_outside_a_transaction_fails_with_55P03(bool zeropg)
    {
        await using var waiter = await OpenAsync(zeropg, ";Options=-c lock_timeout=250"); // ZeroPg checks startup settings in the engine
        await using var holder = await HoldRowAsync(zeropg, "lo");
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<PostgresException>(() => Exec(waiter, "UPDATE lo SET v = 100 WHERE id = 1"));
        Assert.Equal("55P03", error.SqlState);
        Assert.InRange(clock.ElapsedMilliseconds, 200, 3000);
    }

    [Theory]
    [MemberData(nameof(Both))]
    public async Task Statement_timeout_counts_the_wait_and_fails_with_57014(bool zeropg)
    {
        await using var holder = await HoldRowAsync(zeropg, "st");
        await using var waiter = await OpenAsync(zeropg);
        await Exec(waiter, "SET statement_timeout = 300"); // answered at once on ZeroPg too: the client's from now, in the engine with its next unit
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<PostgresException>(() => Exec(waiter, "UPDATE st SET v = 100 WHERE id = 1"));
        Assert.Equal("57014", error.SqlState);
        Assert.Equal("canceling statement due to statement timeout", error.MessageText);
        Assert.InRange(clock.ElapsedMilliseconds, 250, 3000);
        await holder.DisposeAsync();
        Assert.Equal("300ms", await Scalar<string>(waiter, "SHOW statement_timeout"));
    }

    [Theory]
    [MemberData(nameof(Both))]
    public async Task For_update_nowait_fails_at_once_with_55P03(bool zeropg)
    {
        await using var holder = await HoldRowAsync(zeropg, "nw");
        await using var waiter = await OpenAsync(zeropg);
        await using var tx = await waiter.BeginTransactionAsync();
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<PostgresException>(() => Exec(waiter, "SELECT * FROM nw WHERE id = 1 FOR UPDATE NOWAIT"));
        Assert.Equal("55P03", error.SqlState);
        Assert.Equal("could not obtain lock on row in relation \"nw\"", error.MessageText);
        Assert.InRange(clock.ElapsedMilliseconds, 0, 2000);
        Assert.Equal("25P02", (await Assert.ThrowsAsync<PostgresException>(() => Exec(waiter, "SELECT 1"))).SqlState);
        await tx.RollbackAsync();
    }

    [Theory]
    [MemberData(nameof(Both))]
    public async Task Lock_table_nowait_fails_at_once_with_55P03(bool zeropg)
    {
        await using var holder = await HoldRowAsync(zeropg, "ln", lockTable: true);
        await using var waiter = await OpenAsync(zeropg);
        await using var tx = await waiter.BeginTransactionAsync();
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<PostgresException>(() => Exec(waiter, "LOCK TABLE public.ln IN ACCESS EXCLUSIVE MODE NOWAIT"));
        Assert.Equal("55P03", error.SqlState);
        Assert.Equal("could not obtain lock on relation \"public.ln\"", error.MessageText); // as written
        Assert.InRange(clock.ElapsedMilliseconds, 0, 2000);
        await tx.RollbackAsync();
    }

    /// <summary>A table <paramref name="table"/> (id 1, v 1), and a connection whose open transaction updated its row (v 2) and holds it.</summary>
    private async Task<NpgsqlConnection> HoldRowAsync(bool zeropg, string table, bool lockTable = false)
    {
        await using (var setup = await OpenAsync(zeropg))
            await Exec(setup, $"DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (id int PRIMARY KEY, v int); INSERT INTO {table} VALUES (1, 1)");
        var holder = await OpenAsync(zeropg);
        await Exec(holder, "BEGIN");
        await Exec(holder, lockTable ? $"LOCK TABLE {table}; UPDATE {table} SET v = 2 WHERE id = 1" : $"UPDATE {table} SET v = 2 WHERE id = 1");
        return holder;
    }

    private async Task<NpgsqlConnection> OpenAsync(bool zeropg, string extra = "")
    {
        var connection = new NpgsqlConnection(Url(zeropg, extra));
        await connection.OpenAsync();
        return connection;
    }

    private static async Task Exec(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<T> Scalar<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
