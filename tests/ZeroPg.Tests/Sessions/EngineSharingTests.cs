using System.Diagnostics;
using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>Clients share one PGlite session; an open transaction must hold the engine so others never run inside it.</summary>
[Collection(ServerCollection.Name)]
public sealed class EngineSharingTests(ServerFixture fixture)
{
    [Fact]
    public async Task A_second_client_waits_until_the_first_commits()
    {
        await using var a = await fixture.OpenAsync();
        await using var b = await fixture.OpenAsync();
        await TransactionTests.Execute(a, "create table share_order (seq serial, who text, at timestamptz default clock_timestamp())");

        await using var transaction = await a.BeginTransactionAsync();
        await TransactionTests.Execute(a, "insert into share_order (who) values ('a1')");
        var clock = Stopwatch.StartNew();
        var bInsert = Task.Run(async () =>
        {
            await TransactionTests.Execute(b, "insert into share_order (who) values ('b')");
            return clock.Elapsed;
        });
        await Eventually.QueuedAsync(fixture.Server);
        Assert.False(bInsert.IsCompleted, "B ran while A's transaction was open");
        await TransactionTests.Execute(a, "insert into share_order (who) values ('a2')");
        // A still sees only its own rows: B's statement did not run in A's transaction.
        await using (var inside = new NpgsqlCommand("select string_agg(who, ',' order by seq) from share_order", a))
            Assert.Equal("a1,a2", await inside.ExecuteScalarAsync());
        var committing = clock.Elapsed;
        await transaction.CommitAsync();
        var bDone = await bInsert.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.True(bDone >= committing, $"B finished at {bDone}, before A committed at {committing}");

        foreach (var connection in new[] { a, b })
        {
            await using var order = new NpgsqlCommand("select string_agg(who, ',' order by seq), bool_and(at <= (select at from share_order where who = 'b')) from share_order", connection);
            await using var reader = await order.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal("a1,a2,b", reader.GetString(0));
            Assert.True(reader.GetBoolean(1));
        }
    }

    [Fact]
    public async Task A_second_client_waits_for_a_rollback_and_never_sees_the_rolled_back_rows()
    {
        await using var a = await fixture.OpenAsync();
        await using var b = await fixture.OpenAsync();
        await TransactionTests.Execute(a, "create table share_rollback (id int)");
        await using var transaction = await a.BeginTransactionAsync();
        await TransactionTests.Execute(a, "insert into share_rollback values (1)");
        var bCount = Task.Run(async () =>
        {
            await using var count = new NpgsqlCommand("select count(*) from share_rollback", b);
            return (long)(await count.ExecuteScalarAsync())!;
        });
        await Eventually.QueuedAsync(fixture.Server);
        Assert.False(bCount.IsCompleted);
        await transaction.RollbackAsync();
        Assert.Equal(0L, await bCount.WaitAsync(TimeSpan.FromSeconds(15)));
    }

    [Fact]
    public async Task Many_clients_in_parallel_all_commit_their_transactions()
    {
        await using (var setup = await fixture.OpenAsync())
            await TransactionTests.Execute(setup, "create table share_many (client int, n int)");
        var clients = Enumerable.Range(0, 8).Select(async client =>
        {
            await using var connection = await fixture.OpenAsync();
            for (var n = 0; n < 10; n++)
            {
                await using var transaction = await connection.BeginTransactionAsync();
                await TransactionTests.Execute(connection, $"insert into share_many values ({client}, {n})");
                await TransactionTests.Execute(connection, $"insert into share_many values ({client}, {n})");
                await transaction.CommitAsync();
            }
        });
        await Task.WhenAll(clients);
        await using var check = await fixture.OpenAsync();
        await using var count = new NpgsqlCommand("select count(*), count(distinct (client, n)) from share_many", check);
        await using var reader = await count.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(160L, reader.GetInt64(0));
        Assert.Equal(80L, reader.GetInt64(1));
    }
}
