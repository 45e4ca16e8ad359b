using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions.Copy;

/// <summary>
/// On memory:// the WAL is in the engine host's RAM and PGlite never checkpoints by itself, so ZeroPg checkpoints once the
/// WAL since the last passes max_wal_size (32 MB there): between a COPY's pieces, and when the engine is free
/// (Storage.MemoryWalCheckpoints). Without it every byte of WAL stayed until the server stopped.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class CopyCheckpointTests(ServerFixture fixture)
{
    private const long MaxWal = 32 << 20;
    private const int Rows = 200_000; // ~45 MB of WAL: more than max_wal_size
    private static readonly string Filler = new('f', 200);

    [Fact]
    public async Task A_large_copy_on_memory_checkpoints_as_it_loads_and_later_WAL_is_checkpointed_when_the_engine_is_free()
    {
        await using var connection = await fixture.OpenAsync();
        Assert.Equal("32MB", await ScalarAsync<string>(connection, "show max_wal_size"));
        Assert.Equal("32MB", await ScalarAsync<string>(connection, "show min_wal_size"));
        var table = $"copy_ckpt_{Guid.NewGuid():N}"[..24];
        await ScalarAsync<int>(connection, $"create table {table} (id int, v text)");
        var before = await LsnAsync(connection, "pg_current_wal_insert_lsn()");

        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await CopyAsync(connection, table);
            var redo = await LsnAsync(connection, "(select redo_lsn from pg_control_checkpoint())");
            var now = await LsnAsync(connection, "pg_current_wal_insert_lsn()");
            Assert.True(now - before > MaxWal, $"the COPY wrote only {now - before} bytes of WAL");
            Assert.True(redo > before, "no checkpoint during the COPY");
            Assert.True(now - redo <= MaxWal + (8 << 20), $"{now - redo} bytes of WAL since the last checkpoint, inside the COPY's transaction");
            await transaction.CommitAsync();
        }

        // The first read after a checkpoint sets hint bits on every page, which (data checksums) writes each page to the WAL.
        Assert.Equal((long)Rows, await ScalarAsync<long>(connection, $"select count(*) from {table}"));
        await WalCheckpointedAsync(connection);
    }

    [Fact]
    public async Task A_role_that_may_not_checkpoint_loads_a_large_copy_and_the_server_checkpoints_after_it()
    {
        var role = $"copy_plain_{Guid.NewGuid():N}"[..20];
        var table = role + "_t";
        await using (var admin = await fixture.OpenAsync())
            await ScalarAsync<int>(admin, $"create role {role} login; create table {table} (id int, v text); grant all on {table} to {role}");
        await using var connection = await fixture.OpenAsync($"Username={role}");
        await CopyAsync(connection, table);
        Assert.Equal((long)Rows, await ScalarAsync<long>(connection, $"select count(*) from {table}"));
        await WalCheckpointedAsync(connection);
    }

    private static async Task WalCheckpointedAsync(NpgsqlConnection connection)
        => await Eventually.ValueAsync(
            () => LsnAsync(connection, "pg_current_wal_insert_lsn() - (select redo_lsn from pg_control_checkpoint()) + '0/0'::pg_lsn"),
            since => since <= MaxWal,
            since => $"{since} bytes of WAL since the last checkpoint; a checkpoint was due when the engine was free",
            TimeSpan.FromSeconds(20));

    private static async Task CopyAsync(NpgsqlConnection connection, string table)
    {
        await using var writer = await connection.BeginTextImportAsync($"copy {table} from stdin");
        for (var i = 1; i <= Rows; i++)
            await writer.WriteAsync($"{i}\t{Filler}\n");
    }

    private static async Task<long> LsnAsync(NpgsqlConnection connection, string expression)
        => await ScalarAsync<long>(connection, $"select {expression} - '0/0'::pg_lsn");

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync();
        return value is null or DBNull ? default! : (T)Convert.ChangeType(value, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }
}
