using ZeroPg.Storage.Backup;
using ZeroPg.Tests.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Storage.Backup;

/// <summary>
/// The extensions a data directory must preload reach its backup whenever they were loaded: a restore that lacks one fails
/// with 58P01 (could not access file) as soon as it reads an object of it.
/// </summary>
public sealed class BackupExtensionsTests
{
    [Fact]
    public async Task An_extension_created_while_the_bucket_is_down_and_just_before_the_stop_is_in_the_backup()
    {
        using var directory = new TempDirectory();
        await using var s3 = await S3rverProcess.StartAsync(directory.Sub("s3"));
        var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = directory.Sub("a"), Backup = s3.Options("db") }, TestLogging.Factory);
        Task? stopping = null;
        try
        {
            await FileBackupTests.WaitForBaseBackupAsync(server);
            // Every upload of the backup's loop fails from now on, its record of the grown extension set among them:
            // only the stop can still record it (as when the stop comes before the loop looks again).
            await s3.StopAsync();
            await using (var connection = await FileBackupTests.Open(server))
            {
                await WalScannerTests.Execute(connection, "create extension citext");
                await WalScannerTests.Execute(connection, "create table c(name citext primary key)");
                await WalScannerTests.Execute(connection, "insert into c values ('Alice')");
            }
            var engine = server.RunningEngine!;
            stopping = server.DisposeAsync().AsTask();
            // The bucket comes back once the engine has closed: the loop ends right after that, and the stop ships the rest.
            await Eventually.WaitUntilAsync(() => engine.Exited.IsCompleted, "the engine closed by the stop", TimeSpan.FromSeconds(60));
            await s3.RestartAsync();
            await stopping;
        }
        finally
        {
            await (stopping ?? server.DisposeAsync().AsTask());
        }
        await AssertRestoredAsync(s3.Options("db"), directory.Sub("b"));
    }

    [Fact]
    public async Task Extensions_preloaded_from_a_later_start_are_recorded_in_the_backup_it_continues()
    {
        using var directory = new TempDirectory();
        var url = "file://" + directory.Sub("bucket");
        await using (var first = await ZeroPgServer.StartAsync(FileBackupTests.Options(directory.Sub("a"), url), TestLogging.Factory))
            await FileBackupTests.WaitForBaseBackupAsync(first);
        // The directory's extension set grows as the next server starts (as when the server before it stopped or died
        // before recording an extension it loaded); creating the preloaded extension then loads nothing.
        var options = FileBackupTests.Options(directory.Sub("a"), url);
        options.Extensions = ["citext"];
        await using (var second = await ZeroPgServer.StartAsync(options, TestLogging.Factory))
        {
            await using var connection = await FileBackupTests.Open(second);
            await WalScannerTests.Execute(connection, "create extension citext");
            await WalScannerTests.Execute(connection, "create table c(name citext primary key)");
            await WalScannerTests.Execute(connection, "insert into c values ('Alice')");
        }
        await AssertRestoredAsync(new BackupOptions { Url = url }, directory.Sub("b"));
    }

    private static async Task AssertRestoredAsync(BackupOptions location, string target)
    {
        var report = await ZeroPgBackup.RestoreAsync(location, target);
        Assert.Contains("citext", report.Extensions);
        await using var restored = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = target }, TestLogging.Factory);
        await using var check = await FileBackupTests.Open(restored);
        Assert.Equal("Alice", await WalScannerTests.Scalar(check, "select name::text from c where name = 'ALICE'"));
    }
}
