using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>Npgsql's prepared statements (explicit, automatic, kept across pooled reuse) from concurrent connections.</summary>
[Collection(ServerCollection.Name)]
public class NpgsqlPreparedStatementTests(ServerFixture fixture)
{
    private const int Connections = 4;
    private const int Iterations = 200;

    [Fact]
    public async Task Explicitly_prepared_commands_on_concurrent_connections_give_each_its_own_results()
    {
        var table = $"prep_{Guid.NewGuid():N}";
        await using (var setup = await fixture.OpenAsync())
            await Exec(setup, $"create table {table} (conn int, i int, v text)");

        await Task.WhenAll(Enumerable.Range(0, Connections).Select(c => Task.Run(async () =>
        {
            await using var connection = await fixture.OpenAsync();
            // The same SQL text on every connection...
            await using var same = new NpgsqlCommand("select $1::int * 10 + $2::int", connection);
            same.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Integer });
            same.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Integer });
            await same.PrepareAsync();
            // ...and SQL of its own.
            await using var own = new NpgsqlCommand($"select 'conn{c}:' || $1::text", connection);
            own.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            await own.PrepareAsync();
            await using var insert = new NpgsqlCommand($"insert into {table} values ($1, $2, $3)", connection);
            insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Integer });
            insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Integer });
            insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            await insert.PrepareAsync();
            Assert.True(same.IsPrepared && own.IsPrepared && insert.IsPrepared);

            for (var i = 0; i < Iterations; i++)
            {
                same.Parameters[0].Value = c;
                same.Parameters[1].Value = i;
                Assert.Equal(c * 10 + i, (int)(await same.ExecuteScalarAsync())!);
                own.Parameters[0].Value = i.ToString();
                Assert.Equal($"conn{c}:{i}", (string)(await own.ExecuteScalarAsync())!);
                insert.Parameters[0].Value = c;
                insert.Parameters[1].Value = i;
                insert.Parameters[2].Value = $"{c}/{i}";
                Assert.Equal(1, await insert.ExecuteNonQueryAsync());
            }
        })));

        await using var check = await fixture.OpenAsync();
        await using var count = new NpgsqlCommand(
            $"select count(*), count(distinct (conn, i)), bool_and(v = conn || '/' || i) from {table}", check);
        await using var reader = await count.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(Connections * Iterations, reader.GetInt64(0));
        Assert.Equal(Connections * Iterations, reader.GetInt64(1));
        Assert.True(reader.GetBoolean(2));
    }

    [Fact]
    public async Task Automatic_preparation_on_concurrent_connections_gives_correct_results()
    {
        await Task.WhenAll(Enumerable.Range(0, Connections).Select(c => Task.Run(async () =>
        {
            await using var connection = await fixture.OpenAsync("Max Auto Prepare=20;Auto Prepare Min Usages=2");
            for (var i = 0; i < Iterations; i++)
            {
                // A statement shared by all connections, one per connection, and one of a few rotating texts.
                Assert.Equal(c + i, await Scalar<int>(connection, "select $1::int + $2::int", c, i));
                Assert.Equal($"c{c}-{i}", await Scalar<string>(connection, $"select 'c{c}-' || $1::text", i.ToString()));
                Assert.Equal(i * (i % 5), await Scalar<int>(connection, $"select $1::int * {i % 5}", i));
            }
        })));
    }

    [Fact]
    public async Task Automatic_preparation_evicting_statements_on_concurrent_connections_gives_correct_results()
    {
        // More distinct statements than auto-prepare slots: Npgsql keeps closing and re-preparing its _auto names.
        await Task.WhenAll(Enumerable.Range(0, Connections).Select(c => Task.Run(async () =>
        {
            await using var connection = await fixture.OpenAsync("Max Auto Prepare=3;Auto Prepare Min Usages=1");
            for (var i = 0; i < Iterations; i++)
            {
                var k = (i * 7 + c) % 10;
                Assert.Equal(i * 100 + k, await Scalar<int>(connection, $"select $1::int * 100 + {k}", i));
            }
        })));
    }

    [Fact]
    public async Task Pooled_connections_reset_and_reused_keep_prepared_statements_working()
    {
        // A pool of 2 physical connections used by 4 workers: each Open/Close cycle makes Npgsql reset
        // the session on return (DISCARD ALL, or its statement-preserving reset with auto-prepare).
        foreach (var extra in new[] { "", ";Max Auto Prepare=10;Auto Prepare Min Usages=1" })
        {
            var builder = new NpgsqlConnectionStringBuilder(fixture.ConnectionString + extra)
            {
                Pooling = true,
                MaxPoolSize = 2,
                ApplicationName = $"pool-{Guid.NewGuid():N}", // a pool of its own
            };
            await using var dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
            await Task.WhenAll(Enumerable.Range(0, Connections).Select(c => Task.Run(async () =>
            {
                for (var i = 0; i < 50; i++)
                {
                    await using var connection = await dataSource.OpenConnectionAsync();
                    await using var command = new NpgsqlCommand("select $1::int * 3 + $2::int", connection);
                    command.Parameters.AddWithValue(c);
                    command.Parameters.AddWithValue(i);
                    await command.PrepareAsync();
                    Assert.Equal(c * 3 + i, (int)(await command.ExecuteScalarAsync())!);
                    command.Parameters[1].Value = i + 1000;
                    Assert.Equal(c * 3 + i + 1000, (int)(await command.ExecuteScalarAsync())!);
                    Assert.Equal($"w{c}", await Scalar<string>(connection, $"select 'w{c}'"));
                }
            })));
        }
    }

    private static async Task<T> Scalar<T>(NpgsqlConnection connection, string sql, params object[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
            command.Parameters.AddWithValue(parameter);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private static async Task Exec(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
