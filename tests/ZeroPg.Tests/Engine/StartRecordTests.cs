using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Engine;

/// <summary>
/// A reopen after a clean stop reuses what the engine's last shutdown left (engine-host/start-record.mjs): Postgres's relation
/// cache init files and the conversions' fix. Through the whole server: its stop ends the engine host cleanly, which writes
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
            Assert.Contains(logs.Messages, m => m.StartsWith(Started) && m.EndsWith("reused from its last clean shutdown: relation cache init files, conversions' fix"));
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
}
