using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace ZeroPg.Cli;

/// <summary>
/// `zeropg status` and `zeropg stop` for a server serving a data directory, as pg_ctl status/stop: the server is
/// found by the pid it keeps in the directory while it holds its lock (.zeropg.pid).
/// </summary>
internal static class ServerControlCommands
{
    public static Command Status()
    {
        var db = new Option<string>("--db", "-D") { Description = "the data directory [env ZEROPG_DB]", DefaultValueFactory = _ => ServeEnvironment.Database(), Required = false };
        var command = new Command("status", "Say whether a zeropg server is serving the data directory (exit 0 when it is, 3 when not, as pg_ctl status).") { db };
        command.SetAction(parse =>
        {
            if (Directory(parse.GetValue(db)!) is not { } directory)
                return 2;
            var pid = RunningServer(directory);
            Console.Out.WriteLine(new JsonObject { ["running"] = pid is not null, ["pid"] = pid, ["directory"] = directory }.ToJsonString());
            return pid is null ? 3 : 0;
        });
        return command;
    }

    public static Command Stop()
    {
        var db = new Option<string>("--db", "-D") { Description = "the data directory [env ZEROPG_DB]", DefaultValueFactory = _ => ServeEnvironment.Database() };
        var timeout = new Option<int>("--timeout", "-t") { Description = "seconds to wait for the server to stop", DefaultValueFactory = _ => 60 };
        var command = new Command("stop", "Stop the zeropg server serving the data directory (SIGTERM: sessions end with 57P01, transactions roll back, the engine checkpoints) and wait for it.") { db, timeout };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (Directory(parse.GetValue(db)!) is not { } directory)
                return 2;
            if (RunningServer(directory) is not { } pid)
            {
                Console.Error.WriteLine($"zeropg stop: no server is serving {directory}");
                return 3;
            }
            using var server = Process.GetProcessById(pid);
            if (!ZeroPg.Platform.HostPlatform.Current.RequestStop(pid) && !server.HasExited)
            {
                Console.Error.WriteLine($"zeropg stop: could not signal the server (pid {pid})");
                return 1;
            }
            try
            {
                await server.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(parse.GetValue(timeout)), cancellationToken);
            }
            catch (TimeoutException)
            {
                Console.Error.WriteLine($"zeropg stop: the server (pid {pid}) did not stop within {parse.GetValue(timeout)} s");
                return 1;
            }
            Console.Error.WriteLine($"zeropg stop: server (pid {pid}) stopped");
            return 0;
        });
        return command;
    }

    private static string? Directory(string db)
    {
        if (db == ZeroPgOptions.MemoryDatabase)
        {
            Console.Error.WriteLine("zeropg: a memory:// server has no directory to find it by; give --db DIR (or stop it with SIGTERM)");
            return null;
        }
        return Path.GetFullPath(db);
    }

    /// <summary>The pid in the directory's pid file, when that process runs and the directory's lock is held.</summary>
    private static int? RunningServer(string directory)
    {
        var pidFile = Path.Combine(directory, Storage.DataDirectoryLock.PidFileName);
        if (!File.Exists(pidFile) || !int.TryParse(File.ReadAllText(pidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            return null;
        try
        {
            using var process = Process.GetProcessById(pid);
            if (process.HasExited)
                return null;
        }
        catch (ArgumentException)
        {
            return null;
        }
        // A pid file left by a killed server may name a process that reused the pid: the lock tells.
        try
        {
            using var probe = new FileStream(Path.Combine(directory, Storage.DataDirectoryLock.LockFileName), FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            return null; // nobody holds the lock
        }
        catch (IOException)
        {
            return pid;
        }
    }
}
