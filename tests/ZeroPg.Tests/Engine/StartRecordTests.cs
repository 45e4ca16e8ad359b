using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Engine;

/// <summary>
/// A reopen after a clean stop reuses what the engine's last shutdown left (engine-host/start-record.mjs): Postgres's relation
/// cache init files, the conversions' fix and the roles. Through the whole server: its stop ends the engine host cleanly, which writes
/// the record; an engine that dies instead leaves nothing its restart may reuse.
/// </summary>
public sealed class StartRecordTests
{
    private const string Started = "engine of database postgres started";

    [Fact]
    public async Task A_reopen_after_a_clean_stop_reuses_the_init_files_and_a_restart_after_a_crash_does_not()
    {
        using var directory = new TempDirectory();
        var db = directory.Sub("db");
        var initFile = Path.Combine(db, "base", "5", "pg_internal.init");
        await using (var first = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = db }, TestLogging.Factory))
            await DataDirectoryTests.ExecuteAsync(first, "create table t as select g from generate_series(1, 100) g");
        Assert.True(File.Exists(Path.Combine(db, ".zeropg-engine")), "the stop wrote no record");
        var written = File.GetLastWriteTimeUtc(initFile);

        using var logs = new CapturedLogs();
        await using (var reopened = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = db }, logs.Factory))
        {
            Assert.Equal(100L, await DataDirectoryTests.ExecuteAsync(reopened, "select count(*) from t"));
            Assert.Contains(logs.Messages, m => m.StartsWith(Started) && m.EndsWith("reused from its last clean shutdown: relation cache init files, conversions' fix, roles"));
            Assert.Equal(written, File.GetLastWriteTimeUtc(initFile));

            // An engine that dies: its restart runs Postgres's crash recovery and reuses nothing
            var killed = await EngineKill.KillAsync(reopened);
            await Eventually.WaitUntilAsync(() => reopened.EngineId is { } id && id != killed, "the engine restarted", TimeSpan.FromSeconds(60));
            Assert.Equal(2, logs.Messages.Count(m => m.StartsWith(Started)));
            Assert.EndsWith("reused from its last clean shutdown: nothing", logs.Messages.Last(m => m.StartsWith(Started)));
            Assert.Equal(100L, await DataDirectoryTests.ExecuteAsync(reopened, "select count(*) from t"));
            Assert.NotEqual(written, File.GetLastWriteTimeUtc(initFile));
        }
    }

    [Fact]
    public async Task A_reopen_takes_the_roles_as_the_last_stop_left_them_unless_the_server_sets_a_password()
    {
        using var directory = new TempDirectory();
        var db = directory.Sub("db");
        await using (var first = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = db }, TestLogging.Factory))
            await DataDirectoryTests.ExecuteAsync(first, "create role kept_role login; create role gone_role login");

        using (var logs = new CapturedLogs())
        await using (var reopened = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = db }, logs.Factory))
        {
            Assert.EndsWith("reused from its last clean shutdown: relation cache init files, conversions' fix, roles", logs.Messages.Single(m => m.StartsWith(Started)));
            Assert.Equal("kept_role", await CurrentUserAsync(reopened, "kept_role"));
            Assert.Equal("gone_role", await CurrentUserAsync(reopened, "gone_role"));
            await DataDirectoryTests.ExecuteAsync(reopened, "drop role gone_role; alter role kept_role nologin");
        }

        // The roles this reopen takes are those of the stop before it, not of the start before that
        using (var logs = new CapturedLogs())
        await using (var again = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = db }, logs.Factory))
        {
            Assert.EndsWith(", roles", logs.Messages.Single(m => m.StartsWith(Started)));
            var nologin = await Assert.ThrowsAsync<PostgresException>(() => CurrentUserAsync(again, "kept_role"));
            Assert.Equal("28000", nologin.SqlState);
            Assert.Contains("not permitted to log in", nologin.MessageText);
            var gone = await Assert.ThrowsAsync<PostgresException>(() => CurrentUserAsync(again, "gone_role"));
            Assert.Equal("28000", gone.SqlState);
        }

        // A password the server sets at every start changes pg_authid after the ready frame: the roles are read from the engine
        using (var logs = new CapturedLogs())
        await using (var secured = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = db, Security = { Password = "s3cret" } }, logs.Factory))
        {
            Assert.EndsWith("reused from its last clean shutdown: relation cache init files, conversions' fix", logs.Messages.Single(m => m.StartsWith(Started)));
            Assert.Equal("postgres", await CurrentUserAsync(secured, "postgres"));
        }
    }

    private static async Task<string?> CurrentUserAsync(ZeroPgServer server, string user)
    {
        var builder = new NpgsqlConnectionStringBuilder(server.GetConnectionString()) { Username = user, Pooling = false };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select current_user", connection);
        return (string?)await command.ExecuteScalarAsync();
    }
}
