using Npgsql;
using ZeroPg.Tests.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>
/// Session advisory locks are each client's own, as in Postgres: they survive an engine restart, ZeroPg's lock table and
/// functions are out of clients' reach, and pg_locks shows each lock under its holder's process id.
/// </summary>
public sealed class AdvisoryLockPrivacyTests
{
    private const long PrismaKey = 72707369; // prisma migrate deploy holds this one while it migrates

    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_clients_lock_survives_an_engine_restart_and_only_it_can_release_it()
    {
        using var directory = new TempDirectory();
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = directory.Sub("db") }, TestLogging.Factory);
        await using var a = await OpenAsync(server);
        await using var b = await OpenAsync(server);
        await a.ScalarAsync($"SELECT pg_advisory_lock({PrismaKey})");
        Assert.Equal(false, await b.ScalarAsync($"SELECT pg_try_advisory_lock({PrismaKey})"));
        // ZeroPg finishes a unit's bookkeeping after its reply: a statement after it means that is done before the kill.
        Assert.Equal(1, await b.ScalarAsync("SELECT 1"));

        var killed = await EngineKill.KillAsync(server);
        await Eventually.WaitUntilAsync(() => server.EngineId is { } id && id != killed, "a new engine");

        // Neither client was running anything: both stay connected, and A still holds its lock.
        Assert.Equal(false, await b.ScalarAsync($"SELECT pg_try_advisory_lock({PrismaKey})"));
        Assert.Equal(true, await a.ScalarAsync($"SELECT pg_advisory_unlock({PrismaKey})"));
        Assert.Equal(true, await b.ScalarAsync($"SELECT pg_try_advisory_lock({PrismaKey})"));
        Assert.Equal(false, await a.ScalarAsync($"SELECT pg_try_advisory_lock({PrismaKey})"));
    }

    [Fact]
    public async Task Another_client_can_neither_see_nor_delete_the_lock_rows_nor_call_the_internal_functions()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var a = await OpenAsync(server);
        await using var b = await OpenAsync(server);
        await using var raw = await RawProtocolClient.ConnectAsync(server);
        var aPid = (int)(await a.ScalarAsync("SELECT pg_backend_pid()"))!;
        await a.ScalarAsync("SELECT pg_advisory_lock(4242)");

        foreach (var sql in new[]
        {
            "SELECT * FROM pg_temp.zeropg_internal_advisory_locks",
            "DELETE FROM zeropg_internal_advisory_locks",
            "select count(*) from \"ZEROPG_INTERNAL_ADVISORY_LOCKS\"",
            "DO $$ BEGIN DELETE FROM pg_temp.zeropg_internal_advisory_locks; END $$",
            $"SELECT pg_temp.pg_advisory_unlock_all({aPid})",
            $"SELECT pg_temp.\"pg_advisory_unlock_all\"({aPid})",
            $"SELECT \"pg_temp\".pg_advisory_unlock({aPid}, 4242::bigint)",
            $"SELECT pg_temp_0.pg_try_advisory_lock({aPid}, 4242::bigint)",
        })
        {
            // Through the simple and the extended protocol (unnamed and prepared) alike.
            var simple = await raw.Query(sql).RoundTripAsync();
            Assert.Equal("42501", Assert.Single(simple, m => m.Code == 'E').SqlState);
            Assert.Equal("42501", (await Assert.ThrowsAsync<PostgresException>(() => b.ScalarAsync(sql))).SqlState);
            await using var prepared = new NpgsqlCommand(sql, b);
            var extended = await Assert.ThrowsAsync<PostgresException>(async () => { await prepared.PrepareAsync(); await prepared.ExecuteNonQueryAsync(); });
            Assert.Equal("42501", extended.SqlState);
        }
        Assert.Equal(false, await b.ScalarAsync("SELECT pg_try_advisory_lock(4242)"));
        Assert.Equal(true, await a.ScalarAsync("SELECT pg_advisory_unlock(4242)"));
    }

    [Fact]
    public async Task Pg_locks_shows_each_advisory_lock_under_its_holders_pid_with_postgres_key_layout()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var a = await OpenAsync(server);
        await using var b = await OpenAsync(server);
        var aPid = (int)(await a.ScalarAsync("SELECT pg_backend_pid()"))!;
        var bPid = (int)(await b.ScalarAsync("SELECT pg_backend_pid()"))!;
        await a.ScalarAsync($"SELECT pg_advisory_lock({PrismaKey})");
        await b.ScalarAsync("SELECT pg_advisory_lock_shared(7, 8)");
        await b.ScalarAsync("SELECT pg_advisory_lock(-1)"); // Postgres shows a negative bigint key's two halves as unsigned oids

        await using var query = new NpgsqlCommand(
            "SELECT pid, classid::text, objid::text, objsubid, mode, granted FROM pg_locks WHERE locktype = 'advisory' ORDER BY pid, objsubid, objid", a);
        var rows = new List<string>();
        await using (var reader = await query.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
                rows.Add($"{reader.GetInt32(0)} {reader.GetString(1)} {reader.GetString(2)} {reader.GetInt16(3)} {reader.GetString(4)} {reader.GetBoolean(5)}");
        }
        var expected = new List<string>
        {
            $"{aPid} 0 {PrismaKey} 1 ExclusiveLock True",
            $"{bPid} 4294967295 4294967295 1 ExclusiveLock True",
            $"{bPid} 7 8 2 ShareLock True",
        };
        Assert.Equal(expected.OrderBy(r => r, StringComparer.Ordinal), rows.OrderBy(r => r, StringComparer.Ordinal));
        // The alias a query gives is kept, and pg_catalog.pg_locks is the same view.
        Assert.Equal(3L, await b.ScalarAsync("SELECT count(*) FROM pg_catalog.pg_locks l WHERE l.locktype = 'advisory'"));
    }

    private static async Task<NpgsqlConnection> OpenAsync(ZeroPgServer server)
    {
        var connection = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false;Include Error Detail=true");
        await connection.OpenAsync();
        return connection;
    }
}
