using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Drivers;

/// <summary>
/// What a client can see of its own session, through Npgsql on native PostgreSQL 15 and on ZeroPg: result column
/// names of the advisory-lock functions (issue 11 item 5: code reads them by name) and pg_backend_pid(), which must be
/// the process id the client got in BackendKeyData (the one its notifications and cancel requests carry).
/// </summary>
[Collection(DriverCollection.Name)]
public sealed class NpgsqlSessionIdentityTests(DriverFixture fixture)
{
    [Theory]
    [InlineData("postgres", false)]
    [InlineData("postgres", true)]
    [InlineData("zeropg", false)]
    [InlineData("zeropg", true)]
    public async Task Advisory_lock_functions_keep_their_column_names(string target, bool prepared)
    {
        await using var connection = await OpenAsync(target);
        await using var command = new NpgsqlCommand(
            "select pg_advisory_lock(1), pg_try_advisory_lock(2), pg_advisory_unlock(1), pg_advisory_unlock(2), " +
            "pg_try_advisory_lock(3) as mine, pg_advisory_unlock_all()", connection);
        if (prepared)
            await command.PrepareAsync();
        await using var reader = await command.ExecuteReaderAsync();
        Assert.Equal(
            ["pg_advisory_lock", "pg_try_advisory_lock", "pg_advisory_unlock", "pg_advisory_unlock", "mine", "pg_advisory_unlock_all"],
            Enumerable.Range(0, reader.FieldCount).Select(reader.GetName));
        Assert.True(await reader.ReadAsync());
        Assert.Equal((true, true, true, true), (reader.GetBoolean(1), reader.GetBoolean(2), reader.GetBoolean(3), reader.GetBoolean(4)));
    }

    [Theory]
    [InlineData("postgres")]
    [InlineData("zeropg")]
    public async Task Pg_backend_pid_is_the_process_id_the_client_was_given(string target)
    {
        await using var a = await OpenAsync(target);
        await using var b = await OpenAsync(target);
        await using var pidA = new NpgsqlCommand("select pg_backend_pid()", a);
        await using var pidB = new NpgsqlCommand("select pg_backend_pid()", b);
        Assert.Equal((a.ProcessID, b.ProcessID), ((int)(await pidA.ExecuteScalarAsync())!, (int)(await pidB.ExecuteScalarAsync())!));
        Assert.NotEqual(a.ProcessID, b.ProcessID);

        // pg_stat_activity agrees: the client's own row is there under its pid, so "pid <> pg_backend_pid()"
        // (pg_terminate_backend of everyone else) leaves the backend serving it alone, as in Postgres.
        await using var own = new NpgsqlCommand("select count(*) from pg_stat_activity where pid = pg_backend_pid()", a);
        Assert.Equal(1L, await own.ExecuteScalarAsync());
    }

    private async Task<NpgsqlConnection> OpenAsync(string target)
    {
        var connectionString = target switch
        {
            "postgres" => (await fixture.Native).ConnectionString(pooled: true),
            "zeropg" => fixture.ZeroPg.GetConnectionString(),
            _ => throw new ArgumentOutOfRangeException(nameof(target)),
        };
        var connection = new NpgsqlConnection(connectionString + ";Pooling=false");
        await connection.OpenAsync();
        return connection;
    }
}
