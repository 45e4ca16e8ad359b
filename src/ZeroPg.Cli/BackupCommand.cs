using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using ZeroPg.Storage.Backup;

namespace ZeroPg.Cli;

/// <summary>`zeropg backup list | restore | verify URL`: look at, restore and check a backup written by `serve --backup`.</summary>
internal static class BackupCommand
{
    public static Command Create()
    {
        var command = new Command("backup", "Look at, restore or check a backup written by `zeropg serve --backup` (s3://bucket/prefix or file:///path).");
        command.Subcommands.Add(List());
        command.Subcommands.Add(Restore());
        command.Subcommands.Add(Verify());
        return command;
    }

    private static Argument<string> Url() => new("url") { Description = "s3://bucket/prefix or file:///path" };

    private static Option<bool> JsonFlag() => new("--json") { Description = "print JSON instead of text" };

    private static Command List()
    {
        var url = Url();
        var json = JsonFlag();
        var flags = new BackupFlags();
        var command = new Command("list", "Base backups, WAL and the current writer of a backup.") { url, json };
        foreach (var option in flags.LocationOptions)
            command.Options.Add(option);
        command.SetAction(async (parse, cancellationToken) => await RunAsync(async () =>
        {
            var listing = await ZeroPgBackup.ListAsync(flags.Location(parse, parse.GetValue(url)!), cancellationToken);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(listing, CliJson.Default.BackupListing));
                return 0;
            }
            Console.WriteLine($"backup {listing.Url}");
            if (listing.BaseBackups.Count == 0)
                Console.WriteLine("  no complete base backup: nothing to restore");
            foreach (var b in listing.BaseBackups)
                Console.WriteLine($"  base {b.Name}  finished {b.StoppedAt:u}  {Size(b.DataBytes)} of files, {Size(b.ArchiveBytes)} stored  WAL {b.StartLsn}..{b.StopLsn}{(b.Restorable ? "" : "  (not restorable: WAL missing)")}");
            Console.WriteLine($"  WAL: {listing.WalObjects} objects, {Size(listing.WalObjectBytes)}, up to {listing.WalEnd ?? "-"} (last upload {listing.LastWalUpload:u})");
            if (listing.EarliestRestorableTime is { } earliest)
                Console.WriteLine($"  restorable: any time from {earliest:u} to the last commit in the WAL");
            if (listing.Writer is { } writer)
                Console.WriteLine($"  writer: generation {writer.Generation}, {writer.Host} pid {writer.Pid}, {(writer.Released ? "stopped" : "renewed")} {writer.RenewedAt:u}");
            if (listing.UnusableObjects > 0)
                Console.WriteLine($"  {listing.UnusableObjects} objects no backup uses (removed by the writer's retention)");
            return 0;
        }));
        return command;
    }

    private static Command Restore()
    {
        var url = Url();
        var db = new Option<string>("--db") { Description = "the data directory to restore into (missing or empty)", Required = true };
        var time = new Option<string?>("--time") { Description = "restore to the last commit at or before this time (ISO 8601, e.g. 2025-06-01T12:00:00Z); default: the newest state" };
        var json = JsonFlag();
        var progress = new Option<bool>("--progress") { Description = "progress lines on stderr (the default when stderr is a terminal)" };
        var flags = new BackupFlags();
        var command = new Command("restore", "Restore a backup into a data directory (then: zeropg serve --db DIR).") { url, db, time, json, progress };
        foreach (var option in flags.LocationOptions)
            command.Options.Add(option);
        command.SetAction(async (parse, cancellationToken) => await RunAsync(async () =>
        {
            DateTimeOffset? target = null;
            if (parse.GetValue(time) is { } text)
            {
                if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
                    throw new ArgumentException($"--time {text} is not a time: use ISO 8601, e.g. 2025-06-01T12:00:00Z.");
                target = parsed;
            }
            using var logging = Logging(progress: parse.GetValue(progress) || !Console.IsErrorRedirected);
            var report = await ZeroPgBackup.RestoreAsync(flags.Location(parse, parse.GetValue(url)!), parse.GetValue(db)!, target, logging, cancellationToken);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(report, CliJson.Default.BackupRestoreReport));
                return 0;
            }
            Console.WriteLine($"restored {report.DataDirectory} from base {report.BaseBackup} + {Size(report.WalBytes)} of WAL, up to {report.EndLsn} (last commit {report.LastCommit:u}) in {report.Seconds:0.0} s");
            return 0;
        }));
        return command;
    }

    private static Command Verify()
    {
        var url = Url();
        var json = JsonFlag();
        var flags = new BackupFlags();
        var command = new Command("verify", "Restore the newest state into a temporary directory, open it with the engine and read every table.") { url, json };
        foreach (var option in flags.LocationOptions)
            command.Options.Add(option);
        command.SetAction(async (parse, cancellationToken) => await RunAsync(async () =>
        {
            using var logging = Logging();
            var report = await ZeroPgBackup.VerifyAsync(flags.Location(parse, parse.GetValue(url)!), null, logging, cancellationToken);
            if (parse.GetValue(json))
                Console.WriteLine(JsonSerializer.Serialize(report, CliJson.Default.BackupVerifyReport));
            else if (report.Ok)
                Console.WriteLine($"ok: restored base {report.Restore!.BaseBackup} + WAL to {report.Restore.EndLsn} (last commit {report.Restore.LastCommit:u}); the engine opened it and read {report.Rows} rows in {report.Tables} tables");
            else
                Console.Error.WriteLine($"FAILED: {report.Error}");
            return report.Ok ? 0 : 1;
        }));
        return command;
    }

    /// <summary>Warnings and errors on stderr; with <paramref name="progress"/> also the restore's steps (stdout carries only the result).</summary>
    private static ILoggerFactory Logging(bool progress = false) => LoggerFactory.Create(logging => logging
        .SetMinimumLevel(LogLevel.Warning)
        .AddFilter("ZeroPg.Backup", progress ? LogLevel.Information : LogLevel.Warning)
        .AddSimpleConsole(o => o.SingleLine = true)
        .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));

    private static async Task<int> RunAsync(Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception error) when (error is HttpRequestException or System.Net.Sockets.SocketException or Amazon.Runtime.AmazonServiceException or Amazon.Runtime.AmazonClientException)
        {
            Console.Error.WriteLine($"zeropg backup: the backup cannot be read: {error.Message}");
            return 1;
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            Console.Error.WriteLine($"zeropg backup: {error.Message}");
            return 1;
        }
    }

    private static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.0} GB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.0} MB",
        >= 1L << 10 => $"{bytes / 1024.0:0.0} KB",
        _ => $"{bytes} B",
    };
}
