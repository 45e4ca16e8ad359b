using Npgsql;
using NpgsqlTypes;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Drivers;

/// <summary>
/// Issue 11 items 1 and 6: Npgsql's pool (the default) resets a connection when it is returned, by writing the reset
/// in front of the next batch it sends: DISCARD ALL, or, when the connection has prepared statements, its
/// statement-preserving reset (CLOSE ALL, UNLISTEN *, RESET ALL, ...). So the next batch reaches the server as
/// reset + Parse/Bind/Execute, reset + LISTEN, reset + COPY, reset + a pipeline. Each shape runs on native PostgreSQL 15
/// and on ZeroPg, with and without prepared statements on the connection, through a pool of one connection so the
/// second use is certainly the reused one (checked by its backend process id).
/// </summary>
[Collection(DriverCollection.Name)]
public sealed class NpgsqlPooledResetTests(DriverFixture fixture)
{
    [Theory]
    [InlineData("postgres", false)]
    [InlineData("postgres", true)]
    [InlineData("zeropg", false)]
    [InlineData("zeropg", true)]
    public async Task Reused_connection_prepares_and_runs_a_command_with_a_parameter(string target, bool withPrepared)
    {
        await using var dataSource = await DataSourceAsync(target);
        var pid = await FirstUseAsync(dataSource, withPrepared);

        await using var connection = await dataSource.OpenConnectionAsync();
        Assert.Equal(pid, connection.ProcessID);
        await using var command = new NpgsqlCommand("select $1::int + 1", connection);
        command.Parameters.AddWithValue(41);
        await command.PrepareAsync();
        Assert.Equal(42, await command.ExecuteScalarAsync());
        command.Parameters[0].Value = 1;
        Assert.Equal(2, await command.ExecuteScalarAsync());
        if (withPrepared)
            Assert.Equal(14, await RunFirstUseStatementAsync(connection, 7));
    }

    [Theory]
    [InlineData("postgres", false)]
    [InlineData("postgres", true)]
    [InlineData("zeropg", false)]
    [InlineData("zeropg", true)]
    public async Task Reused_connection_receives_notifications_it_listens_for(string target, bool withPrepared)
    {
        await using var dataSource = await DataSourceAsync(target);
        var pid = await FirstUseAsync(dataSource, withPrepared);
        var channel = $"drv_npgsql_pool_{withPrepared}".ToLowerInvariant();

        await using var listener = await dataSource.OpenConnectionAsync();
        Assert.Equal(pid, listener.ProcessID);
        var received = new List<(string Channel, string Payload)>();
        listener.Notification += (_, e) => received.Add((e.Channel, e.Payload));
        await using (var listen = new NpgsqlCommand($"listen {channel}", listener))
            await listen.ExecuteNonQueryAsync();

        await using (var notifier = new NpgsqlConnection(await ConnectionStringAsync(target) + ";Pooling=false"))
        {
            await notifier.OpenAsync();
            await using var notify = new NpgsqlCommand($"notify {channel}, 'after reset'", notifier);
            await notify.ExecuteNonQueryAsync();
        }

        Assert.True(await listener.WaitAsync(TimeSpan.FromSeconds(10)), "no notification within 10 s");
        Assert.Equal([(channel, "after reset")], received);
    }

    [Theory]
    [InlineData("postgres", false)]
    [InlineData("postgres", true)]
    [InlineData("zeropg", false)]
    [InlineData("zeropg", true)]
    public async Task Reused_connection_copies_in_and_out(string target, bool withPrepared)
    {
        await using var dataSource = await DataSourceAsync(target);
        var table = $"drv_npgsql_pool_copy_{withPrepared}".ToLowerInvariant();
        await using (var setup = dataSource.CreateCommand($"drop table if exists {table}; create table {table} (id int, name text)"))
            await setup.ExecuteNonQueryAsync();
        var pid = await FirstUseAsync(dataSource, withPrepared);

        await using var connection = await dataSource.OpenConnectionAsync();
        Assert.Equal(pid, connection.ProcessID);
        await using (var import = await connection.BeginBinaryImportAsync($"copy {table} (id, name) from stdin (format binary)"))
        {
            for (var i = 1; i <= 3; i++)
            {
                await import.StartRowAsync();
                await import.WriteAsync(i, NpgsqlDbType.Integer);
                await import.WriteAsync($"zß€😀 {i}", NpgsqlDbType.Text);
            }
            Assert.Equal(3ul, await import.CompleteAsync());
        }
        using (var export = await connection.BeginTextExportAsync($"copy (select * from {table} order by id) to stdout"))
            Assert.Equal("1\tzß€😀 1\n2\tzß€😀 2\n3\tzß€😀 3\n", await export.ReadToEndAsync());
        await using var drop = new NpgsqlCommand($"drop table {table}", connection);
        await drop.ExecuteNonQueryAsync();
    }

    [Theory]
    [InlineData("postgres", false)]
    [InlineData("postgres", true)]
    [InlineData("zeropg", false)]
    [InlineData("zeropg", true)]
    public async Task Reused_connection_runs_a_pipelined_batch(string target, bool withPrepared)
    {
        await using var dataSource = await DataSourceAsync(target);
        var pid = await FirstUseAsync(dataSource, withPrepared);

        await using var connection = await dataSource.OpenConnectionAsync();
        Assert.Equal(pid, connection.ProcessID);
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("select $1::int * 2") { Parameters = { new() { Value = 21 } } },
                new NpgsqlBatchCommand("select $1::text || '!'") { Parameters = { new() { Value = "zß€😀" } } },
                new NpgsqlBatchCommand("select count(*) from pg_prepared_statements where name = $1") { Parameters = { new() { Value = "nope" } } },
            },
        };
        var results = new List<object>();
        await using (var reader = await batch.ExecuteReaderAsync())
        {
            do
            {
                while (await reader.ReadAsync())
                    results.Add(reader.GetValue(0));
            } while (await reader.NextResultAsync());
        }
        Assert.Equal([42, "zß€😀!", 0L], results);
        if (withPrepared)
            Assert.Equal(14, await RunFirstUseStatementAsync(connection, 7));
    }

    private async Task<string> ConnectionStringAsync(string target) => target switch
    {
        "postgres" => (await fixture.Native).ConnectionString(pooled: true),
        "zeropg" => fixture.ZeroPg.GetConnectionString(),
        _ => throw new ArgumentOutOfRangeException(nameof(target)),
    };

    private async Task<NpgsqlDataSource> DataSourceAsync(string target) =>
        NpgsqlDataSource.Create(await ConnectionStringAsync(target) + ";Maximum Pool Size=1");

    /// <summary>
    /// The pooled connection's first use (a new physical connection, so no reset yet), returned to the pool at the end.
    /// With <paramref name="withPrepared"/> it leaves an explicitly prepared statement on the connection, which makes
    /// Npgsql's reset on the next use the statement-preserving one instead of DISCARD ALL.
    /// </summary>
    private static async Task<int> FirstUseAsync(NpgsqlDataSource dataSource, bool withPrepared)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using (var command = new NpgsqlCommand("select 1", connection))
            Assert.Equal(1, await command.ExecuteScalarAsync());
        if (withPrepared)
            Assert.Equal(2, await RunFirstUseStatementAsync(connection, 1));
        return connection.ProcessID;
    }

    private static async Task<object?> RunFirstUseStatementAsync(NpgsqlConnection connection, int value)
    {
        await using var command = new NpgsqlCommand("select $1::int * 2 /* kept across the reset */", connection);
        command.Parameters.AddWithValue(value);
        await command.PrepareAsync();
        return await command.ExecuteScalarAsync();
    }
}
