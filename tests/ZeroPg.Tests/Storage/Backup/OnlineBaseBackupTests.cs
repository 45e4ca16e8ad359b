using Npgsql;
using ZeroPg.Storage.Backup;
using ZeroPg.Tests.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Storage.Backup;

/// <summary>Base backups taken while clients write, and the engine's own restarts, as a restore sees them.</summary>
public sealed class OnlineBaseBackupTests
{
    [Fact]
    public async Task A_base_backup_taken_while_clients_update_every_page_restores_the_same_data()
    {
        using var directory = new TempDirectory();
        var url = "file://" + directory.Sub("bucket");
        // A database with data and no backup yet: the first base backup copies ~30 MB while clients write.
        await using (var plain = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = directory.Sub("a") }, TestLogging.Factory))
        {
            await using var connection = await FileBackupTests.Open(plain);
            await WalScannerTests.Execute(connection, "create table t(id int primary key, n int, v text)");
            await WalScannerTests.Execute(connection, "insert into t select g, 0, md5(g::text) || repeat('x', 100) from generate_series(1, 200000) g");
        }
        string expected;
        int updates;
        await using (var server = await ZeroPgServer.StartAsync(FileBackupTests.Options(directory.Sub("a"), url), TestLogging.Factory))
        {
            using var stop = new CancellationTokenSource();
            var rounds = 0;
            var writer = Task.Run(async () =>
            {
                await using var connection = await FileBackupTests.Open(server);
                while (!stop.IsCancellationRequested)
                {
                    // Touches pages all over the table (and their full-page images after the checkpoint).
                    await WalScannerTests.Execute(connection, $"update t set n = n + 1 where id % 997 = {Volatile.Read(ref rounds) % 997}");
                    Interlocked.Increment(ref rounds);
                }
                return Volatile.Read(ref rounds);
            });
            await Eventually.WaitUntilAsync(() => server.Backup!.BaseBackups >= 1, "the first base backup", TimeSpan.FromSeconds(60));
            Assert.Equal(1, server.Backup!.BaseBackups);
            // Updates go on after the backup (WAL the restore must replay on top of it).
            var atBackup = Volatile.Read(ref rounds);
            await Eventually.WaitUntilAsync(() => Volatile.Read(ref rounds) > atBackup + 5, "more update rounds after the base backup", TimeSpan.FromSeconds(30));
            stop.Cancel();
            updates = await writer;
            await using var check = await FileBackupTests.Open(server);
            expected = (string)(await WalScannerTests.Scalar(check, "select sum(n)::text || '/' || count(*) || '/' || sum(hashtext(v)) from t"))!;
        }
        Assert.True(updates > 5, $"only {updates} update rounds ran during the backup");

        var report = await ZeroPgBackup.RestoreAsync(new BackupOptions { Url = url }, directory.Sub("b"));
        await using var restored = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = directory.Sub("b") }, TestLogging.Factory);
        await using var restoredConnection = await FileBackupTests.Open(restored);
        Assert.Equal(expected, await WalScannerTests.Scalar(restoredConnection, "select sum(n)::text || '/' || count(*) || '/' || sum(hashtext(v)) from t"));
        await using var amcheck = new NpgsqlCommand("select count(*) from t where id between 1000 and 2000", restoredConnection);
        Assert.Equal(1001L, await amcheck.ExecuteScalarAsync()); // through the primary key index
    }

    [Fact]
    public async Task Engine_restarts_and_extensions_loaded_later_are_in_the_backup()
    {
        using var directory = new TempDirectory();
        var url = "file://" + directory.Sub("bucket");
        await using (var server = await ZeroPgServer.StartAsync(FileBackupTests.Options(directory.Sub("a"), url), TestLogging.Factory))
        {
            await FileBackupTests.WaitForBaseBackupAsync(server);
            await using (var connection = await FileBackupTests.Open(server))
            {
                await WalScannerTests.Execute(connection, "create table t(id int primary key, v text)");
                await WalScannerTests.Execute(connection, "insert into t values (1, 'before the crash')");
            }
            // The engine dies (as when a running query is cancelled on a data directory) and restarts with crash recovery.
            await EngineKill.KillAsync(server);
            await using (var connection = await OpenRetryingAsync(server))
            {
                await WalScannerTests.Execute(connection, "insert into t values (2, 'after the crash')");
                // Loading an extension restarts the engine with it; a restore must preload it too.
                await WalScannerTests.Execute(connection, "create extension citext");
                await WalScannerTests.Execute(connection, "create table c(name citext primary key)");
                await WalScannerTests.Execute(connection, "insert into c values ('Alice')");
            }
        }
        await using var restored = await ZeroPgServer.StartAsync(FileBackupTests.Options(directory.Sub("b"), url), TestLogging.Factory);
        await using var check = await FileBackupTests.Open(restored);
        Assert.Equal(2L, await WalScannerTests.Scalar(check, "select count(*) from t"));
        Assert.Equal("Alice", await WalScannerTests.Scalar(check, "select name::text from c where name = 'ALICE'"));
    }

    private static Task<NpgsqlConnection> OpenRetryingAsync(ZeroPgServer server)
        => Eventually.SucceedsAsync(async () =>
        {
            var connection = await FileBackupTests.Open(server);
            await WalScannerTests.Scalar(connection, "select 1");
            return connection;
        }, error => error is NpgsqlException, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(200));
}

public sealed class BackupHousekeepingTests
{
    [Fact]
    public async Task Base_backups_inside_a_clients_open_or_failed_transaction_leave_it_as_it_was()
    {
        using var directory = new TempDirectory();
        var url = "file://" + directory.Sub("bucket");
        var options = FileBackupTests.Options(directory.Sub("a"), url, b =>
        {
            b.BaseBackupInterval = TimeSpan.FromMilliseconds(300); // base backups back to back
            b.IdleEngineWait = TimeSpan.FromMilliseconds(200);
        });
        await using (var server = await ZeroPgServer.StartAsync(options, TestLogging.Factory))
        {
            await using var setup = await FileBackupTests.Open(server);
            await WalScannerTests.Execute(setup, "create table t(id int primary key)");

            // An open transaction holds the engine while base backups start and stop inside it.
            await using var open = await FileBackupTests.Open(server);
            await using (var begin = open.BeginTransaction())
            {
                await WalScannerTests.Execute(open, "insert into t values (1)");
                var before = server.Backup!.BaseBackups;
                await WaitAsync(() => server.Backup!.BaseBackups >= before + 2, "two base backups inside the open transaction");
                await WalScannerTests.Execute(open, "insert into t values (2)");
                await begin.CommitAsync();
            }

            // A failed transaction: the backup's statements fail too (and are retried later); the
            // client's transaction stays failed until it rolls back, as Postgres has it.
            await using var failed = await FileBackupTests.Open(server);
            await using (var begin = failed.BeginTransaction())
            {
                await Assert.ThrowsAsync<Npgsql.PostgresException>(() => WalScannerTests.Execute(failed, "select 1/0"));
                var failures = server.Backup!.BaseBackupFailures;
                await WaitAsync(() => server.Backup!.BaseBackupFailures > failures, "a base backup failed inside the failed transaction");
                var aborted = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => WalScannerTests.Execute(failed, "select 1"));
                Assert.Equal("25P02", aborted.SqlState);
                await begin.RollbackAsync();
            }
            Assert.Equal(1, await WalScannerTests.Scalar(failed, "select 1"));
            var done = server.Backup!.BaseBackups;
            await WaitAsync(() => server.Backup!.BaseBackups > done, "a base backup after the rollback");
        }
        var report = await ZeroPg.Storage.Backup.ZeroPgBackup.RestoreAsync(new ZeroPg.Storage.Backup.BackupOptions { Url = url }, directory.Sub("b"));
        await using var restored = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = directory.Sub("b") }, TestLogging.Factory);
        await using var check = await FileBackupTests.Open(restored);
        Assert.Equal(2L, await WalScannerTests.Scalar(check, "select count(*) from t"));
    }

    [Fact]
    public async Task A_base_backup_left_open_by_a_failed_transaction_does_not_abort_the_next_clients_open_transaction()
    {
        using var directory = new TempDirectory();
        using var logs = new CapturedLogs();
        var options = FileBackupTests.Options(directory.Sub("a"), "file://" + directory.Sub("bucket"), b =>
        {
            b.BaseBackupInterval = TimeSpan.FromMilliseconds(300);
            // A base backup's stop waits this long for the client holding the engine: time for it to fail its transaction.
            b.IdleEngineWait = TimeSpan.FromSeconds(2);
        });
        await using var server = await ZeroPgServer.StartAsync(options, logs.Factory);
        await FileBackupTests.WaitForBaseBackupAsync(server);
        await using var setup = await FileBackupTests.Open(server);
        await WalScannerTests.Execute(setup, "create table t(id int primary key)");

        // A base backup starts while a client holds its transaction, which fails before the backup's stop: the stop fails
        // (25P02) and the backup stays open in the engine session.
        await using var failing = await FileBackupTests.Open(server);
        await using (var begin = failing.BeginTransaction())
        {
            await WalScannerTests.Execute(failing, "insert into t values (1)");
            var started = Started(logs);
            var failures = server.Backup!.BaseBackupFailures;
            await WaitAsync(() => Started(logs) > started, "a base backup started while the transaction is open");
            await Assert.ThrowsAsync<Npgsql.PostgresException>(() => WalScannerTests.Execute(failing, "select 1/0"));
            await WaitAsync(() => server.Backup!.BaseBackupFailures > failures, "the base backup's stop failed inside the failed transaction");
            await begin.RollbackAsync();
        }

        // The next attempt runs inside another client's open transaction (the retry comes seconds later): it must not abort it.
        await using var open = await FileBackupTests.Open(server);
        await using (var begin = open.BeginTransaction())
        {
            await WalScannerTests.Execute(open, "insert into t values (2)");
            var started = Started(logs);
            var failures = server.Backup!.BaseBackupFailures;
            await WaitAsync(() => Started(logs) > started || server.Backup!.BaseBackupFailures > failures, "the next base backup attempt inside the open transaction");
            await WalScannerTests.Execute(open, "insert into t values (3)");
            await begin.CommitAsync();
        }
        Assert.Equal(2L, await WalScannerTests.Scalar(open, "select count(*) from t"));
        var done = server.Backup!.BaseBackups;
        await WaitAsync(() => server.Backup!.BaseBackups > done, "a complete base backup after the commit");
    }

    private static int Started(CapturedLogs logs) => logs.Messages.Count(m => m.Contains("base backup started at WAL", StringComparison.Ordinal));

    private static Task WaitAsync(Func<bool> condition, string what)
        => Eventually.WaitUntilAsync(condition, what, TimeSpan.FromSeconds(60));
}
