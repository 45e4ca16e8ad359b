using System.Text.Json;
using Npgsql;
using ZeroPg.Tests.Cli;
using ZeroPg.Tests.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Storage.Backup;

/// <summary>`zeropg backup list | restore | verify` as a user runs them.</summary>
public sealed class BackupCliTests
{
    /// <summary>
    /// The first server surely runs (its pid still has the boot id and start tick its lease names), so the second is refused
    /// without watching for a renewal: with this lease, the first renewal it could see would come only after 200 s.
    /// </summary>
    [Fact]
    public async Task A_second_server_on_this_machine_with_the_same_backup_is_refused_at_once()
    {
        using var directory = new TempDirectory();
        var backup = "file://" + directory.Sub("bucket");
        await using var first = await CliProcess.StartReadyAsync("--db", directory.Sub("a"), "--port", "0", "--backup", backup, "--backup-lease-ttl", "600");
        var second = await Infrastructure.ZeroPgCli.RunAsync(["serve", "--db", directory.Sub("b"), "--port", "0", "--backup", backup], timeout: TimeSpan.FromSeconds(90));
        Assert.NotEqual(0, second.ExitCode);
        Assert.Contains("is being written by another ZeroPg server", second.Stderr);
        Assert.Contains("which runs on this machine", second.Stderr);
        Assert.False(File.Exists(Path.Combine(directory.Sub("b"), "PG_VERSION")), "the refused server made its directory");
        await using var connection = new NpgsqlConnection(first.ConnectionString);
        await connection.OpenAsync(); // the first one serves on
        Assert.Equal(1L, await WalScannerTests.Scalar(connection, "select 1::bigint"));
    }

    [Fact]
    public async Task List_restore_to_a_time_and_verify_a_backup()
    {
        using var directory = new TempDirectory();
        await using var s3 = await S3rverProcess.StartAsync(directory.Sub("s3"));
        var backup = s3.Options("cli");
        DateTimeOffset between;
        await using (var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = directory.Sub("a"), Backup = backup }, TestLogging.Factory))
        {
            await using var connection = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
            await connection.OpenAsync();
            await FileBackupTests.WaitForBaseBackupAsync(server); // `between` must lie after the first base backup
            await WalScannerTests.Execute(connection, "create table t(id int primary key)");
            await WalScannerTests.Execute(connection, "insert into t select generate_series(1, 100)");
            // `between` lies strictly between the two inserts' commit times on the engine's clock, the one commit times are read from.
            between = await EngineClockPastAsync(connection, await EngineClockPastAsync(connection, DateTimeOffset.MinValue));
            await EngineClockPastAsync(connection, between);
            await WalScannerTests.Execute(connection, "insert into t select generate_series(101, 150)");
        }
        string[] location = ["s3://zeropg/cli", .. s3.CliFlags];

        var list = await ZeroPgCli.RunAsync(s3.Environment, ["backup", "list", .. location, "--json"]);
        Assert.Equal(0, list.ExitCode);
        var listing = JsonDocument.Parse(list.Stdout).RootElement;
        var baseBackup = Assert.Single(listing.GetProperty("BaseBackups").EnumerateArray());
        Assert.True(baseBackup.GetProperty("Restorable").GetBoolean());
        Assert.True(listing.GetProperty("Writer").GetProperty("Released").GetBoolean());
        var text = await ZeroPgCli.RunAsync(s3.Environment, ["backup", "list", .. location]);
        Assert.Contains("restorable: any time from", text.Stdout);

        var restore = await ZeroPgCli.RunAsync(s3.Environment, ["backup", "restore", .. location, "--db", directory.Sub("pitr"), "--time", between.ToString("O"), "--progress"]);
        Assert.True(restore.ExitCode == 0, restore.Stderr);
        Assert.StartsWith("restored", Assert.Single(restore.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))); // progress never on stdout
        Assert.Contains("restoring from s3://zeropg/cli: base backup", restore.Stderr);
        Assert.Contains("extracted", restore.Stderr);
        await using (var restored = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = directory.Sub("pitr") }, TestLogging.Factory))
        {
            await using var connection = new NpgsqlConnection(restored.GetConnectionString() + ";Pooling=false");
            await connection.OpenAsync();
            Assert.Equal(100L, await WalScannerTests.Scalar(connection, "select count(*) from t"));
        }

        var again = await ZeroPgCli.RunAsync(s3.Environment, ["backup", "restore", .. location, "--db", directory.Sub("pitr")]);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("is not empty", again.Stderr);

        var verify = await ZeroPgCli.RunAsync(s3.Environment, ["backup", "verify", .. location]);
        Assert.True(verify.ExitCode == 0, verify.Stderr);
        Assert.Contains("read 150 rows in 1 tables", verify.Stdout);
    }

    [Fact]
    public async Task Bad_locations_fail_with_a_message()
    {
        var unsupported = await ZeroPgCli.RunAsync(null, ["backup", "list", "ftp://host/x"]);
        Assert.Equal(1, unsupported.ExitCode);
        Assert.Contains("use s3://bucket/prefix", unsupported.Stderr);

        using var directory = new TempDirectory();
        var empty = await ZeroPgCli.RunAsync(null, ["backup", "restore", "file://" + directory.Sub("nothing"), "--db", directory.Sub("db")]);
        Assert.Equal(1, empty.ExitCode);
        Assert.Contains("holds no complete base backup", empty.Stderr);

        // An S3 endpoint that does not answer: an error, not a hang or a crash.
        var down = await ZeroPgCli.RunAsync(new Dictionary<string, string> { ["AWS_ACCESS_KEY_ID"] = "x", ["AWS_SECRET_ACCESS_KEY"] = "x" },
            ["backup", "list", "s3://b/p", "--s3-endpoint", "http://127.0.0.1:9", "--s3-path-style"]);
        Assert.Equal(1, down.ExitCode);
        Assert.Contains("zeropg backup:", down.Stderr);
    }

    /// <summary>Until the engine's clock reads later than <paramref name="instant"/>; returns what it reads then.</summary>
    private static Task<DateTimeOffset> EngineClockPastAsync(NpgsqlConnection connection, DateTimeOffset instant)
        => Eventually.ValueAsync(async () => new DateTimeOffset((DateTime)(await WalScannerTests.Scalar(connection, "select clock_timestamp()"))!),
            now => now > instant, now => $"the engine's clock past {instant:O} (it reads {now:O})");
}
