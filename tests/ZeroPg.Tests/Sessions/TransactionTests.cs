using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

[Collection(ServerCollection.Name)]
public class TransactionTests(ServerFixture fixture)
{
    [Fact]
    public async Task Rollback_to_savepoint_keeps_earlier_work_and_commit_is_visible_to_others()
    {
        await using var a = await fixture.OpenAsync();
        await using var b = await fixture.OpenAsync();
        await Execute(a, "create table tx_savepoint (id int)");
        await using (var transaction = await a.BeginTransactionAsync())
        {
            await Execute(a, "insert into tx_savepoint values (1)");
            await transaction.SaveAsync("first");
            await Execute(a, "insert into tx_savepoint values (2)");
            await transaction.SaveAsync("second");
            await Execute(a, "insert into tx_savepoint values (3)");
            Assert.Equal("22012", (await Assert.ThrowsAsync<PostgresException>(() => Execute(a, "select 1/0"))).SqlState);
            await transaction.RollbackAsync("second"); // recovers from the error, keeps 1 and 2
            await Execute(a, "insert into tx_savepoint values (4)");
            await transaction.RollbackAsync("first"); // drops 2 and 4
            await Execute(a, "insert into tx_savepoint values (5)");
            await transaction.ReleaseAsync("first");
            Assert.Equal("1,5", await Ids(a, "tx_savepoint"));
            await transaction.CommitAsync();
        }
        Assert.Equal("1,5", await Ids(b, "tx_savepoint"));
    }

    [Fact]
    public async Task A_rolled_back_transaction_leaves_nothing_for_others()
    {
        await using var a = await fixture.OpenAsync();
        await using var b = await fixture.OpenAsync();
        await Execute(a, "create table tx_rollback (id int)");
        await using (var transaction = await a.BeginTransactionAsync())
        {
            await Execute(a, "insert into tx_rollback values (1)");
            await Execute(a, "create table tx_rollback_created (id int)");
            Assert.Equal("1", await Ids(a, "tx_rollback"));
            await transaction.RollbackAsync();
        }
        Assert.Equal("", await Ids(b, "tx_rollback"));
        await using var exists = new NpgsqlCommand("select to_regclass('tx_rollback_created') is null", b);
        Assert.Equal(true, await exists.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_connection_closed_inside_a_transaction_is_rolled_back()
    {
        await using var b = await fixture.OpenAsync();
        await Execute(b, "create table tx_abandoned (id int)");
        await using (var a = await fixture.OpenAsync())
        {
            await using var transaction = await a.BeginTransactionAsync();
            await Execute(a, "insert into tx_abandoned values (1)");
        }
        await using var count = new NpgsqlCommand("select count(*) from tx_abandoned", b) { CommandTimeout = 10 };
        Assert.Equal(0L, await count.ExecuteScalarAsync());
        await Execute(b, "insert into tx_abandoned values (2)"); // and the engine is free again
    }

    internal static async Task Execute(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    internal static async Task<string> Ids(NpgsqlConnection connection, string table)
    {
        await using var command = new NpgsqlCommand($"select coalesce(string_agg(id::text, ',' order by id), '') from {table}", connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
