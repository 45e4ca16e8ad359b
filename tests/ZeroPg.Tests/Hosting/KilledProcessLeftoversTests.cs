using System.Diagnostics;
using System.Net.Sockets;
using Npgsql;
using ZeroPg.Hosting;
using ZeroPg.Tests.Cli;
using ZeroPg.Tests.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Hosting;

/// <summary>
/// A ZeroPg process killed outright leaves files of its engine's start (doorbell, FIFOs, cancel socket) and the folders it
/// keeps while it runs (a memory:// server's databases, its snapshots) in /dev/shm and the temporary directory. The next
/// process that starts an engine removes those whose creator is gone, and nothing else.
/// </summary>
public sealed class KilledProcessLeftoversTests
{
    [Fact]
    public async Task A_start_file_too_young_for_the_first_sweep_goes_in_the_second()
    {
        using var directory = new TempDirectory();
        var gone = await DeadProcessIdAsync();
        // Made by a process killed just before this one swept: 5 s short of stale at the first sweep.
        var young = PlantFile(directory, $"zeropg-doorbell-{gone}-a", DateTime.UtcNow - KilledProcessLeftovers.StaleAfter + TimeSpan.FromSeconds(5));

        Assert.Equal(0, KilledProcessLeftovers.Sweep([directory.Path], DateTime.UtcNow)); // what the first sweep sees
        Assert.True(File.Exists(young));

        Assert.Equal(1, await KilledProcessLeftovers.SweepTwiceAsync([directory.Path], TimeSpan.FromSeconds(7)).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.False(File.Exists(young), "the second sweep left the file");
    }

    [Fact]
    public async Task Only_the_leftovers_of_processes_that_are_gone_are_removed()
    {
        using var directory = new TempDirectory();
        var gone = await DeadProcessIdAsync();
        var now = DateTime.UtcNow;
        var old = now - TimeSpan.FromMinutes(5);

        var doorbell = PlantFile(directory, $"zeropg-doorbell-{gone}-a", old);
        var fifo = directory.Sub($"zeropg-engine-{gone}-b.in");
        await RunAsync("mkfifo", fifo);
        File.SetLastWriteTimeUtc(fifo, old);
        var socket = directory.Sub($"zeropg-cancel-{gone}-c.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified); // open: its close unlinks the file
        listener.Bind(new UnixDomainSocketEndPoint(socket));
        File.SetLastWriteTimeUtc(socket, old);
        var abandoned = PlantFolder(directory, $"zeropg-databases-{gone}-d", owner: true, now); // young, but its lock is free
        // The .NET runtime's own files, which a SIGKILLed server leaves: its diagnostics socket and debugger pipes.
        var diagnostics = PlantFile(directory, $"dotnet-diagnostic-{gone}-12345-socket", old);
        var debugPipe = directory.Sub($"clr-debug-pipe-{gone}-12345-in");
        await RunAsync("mkfifo", debugPipe);
        File.SetLastWriteTimeUtc(debugPipe, old);
        var liveDiagnostics = PlantFile(directory, "dotnet-diagnostic-1-1-socket", old); // PID 1 runs
        var youngDiagnostics = PlantFile(directory, $"dotnet-diagnostic-{gone}-2-socket", now - TimeSpan.FromSeconds(5));
        var legacy = PlantFolder(directory, $"zeropg-snapshots-{gone}-e", owner: false, old);

        var young = PlantFile(directory, $"zeropg-doorbell-{gone}-f", now - TimeSpan.FromSeconds(5)); // a server in another PID namespace, starting
        var live = PlantFile(directory, "zeropg-doorbell-1-g", old); // PID 1 runs
        var own = PlantFile(directory, $"zeropg-engine-{Environment.ProcessId}-h.out", old);
        var held = PlantFolder(directory, $"zeropg-databases-{gone}-i", owner: true, old); // its owner runs in another PID namespace
        using var holder = new FileStream(Path.Combine(held, OwnedTempFolder.OwnerFile), FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        var youngLegacy = PlantFolder(directory, $"zeropg-snapshots-{gone}-j", owner: false, now);
        var unrelated = new[]
        {
            PlantFile(directory, $"zeropg-verify-{gone}-k", old), // a file where a folder is made
            PlantFile(directory, "zeropg-pool-test-l", old),
            PlantFile(directory, "zeropg-engine-notapid-m", old),
            PlantFolder(directory, "zeropg-drivers", owner: false, old),
        };
        using var target = new TempDirectory();
        File.WriteAllText(target.Sub("keep"), "x");
        var link = directory.Sub($"zeropg-databases-{gone}-n");
        Directory.CreateSymbolicLink(link, target.Path);

        Assert.Equal(7, KilledProcessLeftovers.Sweep([directory.Path], now));

        foreach (var removed in new[] { doorbell, fifo, socket, abandoned, legacy, diagnostics, debugPipe })
            Assert.False(Path.Exists(removed), $"{Path.GetFileName(removed)} is still there");
        foreach (var kept in new[] { young, live, own, held, youngLegacy, link, liveDiagnostics, youngDiagnostics }.Concat(unrelated))
            Assert.True(Path.Exists(kept), $"{Path.GetFileName(kept)} was removed");
        Assert.True(File.Exists(target.Sub("keep")), "the sweep followed a link");
        Assert.True(File.Exists(Path.Combine(held, "seed.tar")), "a held folder lost a file");
    }

    [Fact]
    public void A_folder_is_not_abandoned_while_its_process_holds_it()
    {
        var folder = new OwnedTempFolder(KilledProcessLeftovers.Databases);
        try
        {
            var path = folder.Ensure();
            Assert.Same(path, folder.Ensure());
            Assert.False(OwnedTempFolder.IsAbandoned(path), "the folder's own process holds it");
        }
        finally
        {
            folder.Dispose();
        }
        Assert.False(Directory.Exists(folder.Path));
    }

    [Fact]
    public async Task A_new_server_removes_what_a_killed_server_left()
    {
        var gone = await DeadProcessIdAsync();
        var doorbell = Path.Combine("/dev/shm", $"zeropg-doorbell-{gone}-{Guid.NewGuid():N}");
        File.WriteAllBytes(doorbell, new byte[8]);
        File.SetLastWriteTimeUtc(doorbell, DateTime.UtcNow - TimeSpan.FromMinutes(5));
        string databases;
        await using (var killed = await CliProcess.StartReadyAsync("--port", "0"))
        {
            await using (var connection = new NpgsqlConnection(killed.ConnectionString))
            {
                await connection.OpenAsync();
                await using var create = new NpgsqlCommand("CREATE DATABASE leftover_db", connection);
                await create.ExecuteNonQueryAsync();
            }
            databases = Assert.Single(Directory.GetDirectories(Path.GetTempPath(), $"zeropg-databases-{killed.Process.Id}-*"));
            Assert.True(File.Exists(Path.Combine(databases, OwnedTempFolder.OwnerFile)));
            await killed.SignalAsync("KILL");
            await killed.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }
        try
        {
            Assert.True(Directory.Exists(databases), "a killed server's folder went without a sweep");
            await using var next = await CliProcess.StartReadyAsync("--port", "0");
            await Eventually.WaitUntilAsync(() => !Directory.Exists(databases) && !File.Exists(doorbell),
                "the killed server's databases folder and an old doorbell of a gone process removed by the next server", TimeSpan.FromSeconds(30));
        }
        finally
        {
            File.Delete(doorbell);
            if (Directory.Exists(databases))
                Directory.Delete(databases, recursive: true);
        }
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task The_postgres_a_killed_native_server_left_running_is_stopped_and_its_cluster_removed()
    {
        string folder;
        int postmaster;
        await using (var killed = await CliProcess.StartReadyAsync("--port", "0", "--engine", "postgres"))
        {
            folder = Assert.Single(Directory.GetDirectories(Path.GetTempPath(), $"zeropg-native-{killed.Process.Id}-*"));
            postmaster = int.Parse(File.ReadLines(Path.Combine(folder, "data", "postmaster.pid")).First(), System.Globalization.CultureInfo.InvariantCulture);
            await killed.SignalAsync("KILL");
            await killed.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }
        try
        {
            Assert.True(CliProcess.IsRunning(postmaster), "postgres outlives a killed server (what this sweep is for)");
            await using var next = await CliProcess.StartReadyAsync("--port", "0");
            await Eventually.WaitUntilAsync(() => !Directory.Exists(folder), "the killed server's memory:// cluster removed by the next server",
                TimeSpan.FromSeconds(30));
            // Stopped before its cluster went, not by its own check of its lock file (once a minute) after.
            Assert.False(CliProcess.IsRunning(postmaster), "the killed server's postmaster still runs once its cluster is gone");
        }
        finally
        {
            if (CliProcess.IsRunning(postmaster))
                Process.GetProcessById(postmaster).Kill();
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
    }

    private static string PlantFile(TempDirectory directory, string name, DateTime written)
    {
        var path = directory.Sub(name);
        File.WriteAllBytes(path, new byte[8]);
        File.SetLastWriteTimeUtc(path, written);
        return path;
    }

    private static string PlantFolder(TempDirectory directory, string name, bool owner, DateTime written)
    {
        var path = directory.Sub(name);
        Directory.CreateDirectory(path);
        File.WriteAllText(Path.Combine(path, "seed.tar"), "x");
        if (owner)
            File.WriteAllText(Path.Combine(path, OwnedTempFolder.OwnerFile), "");
        Directory.SetLastWriteTimeUtc(path, written);
        return path;
    }

    private static async Task RunAsync(string program, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(program, arguments) { UseShellExecute = false })!;
        await process.WaitForExitAsync();
        Assert.Equal(0, process.ExitCode);
    }

    /// <summary>The process id of a process that has ended (`true`, waited for).</summary>
    private static async Task<int> DeadProcessIdAsync()
    {
        using var process = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        var pid = process.Id;
        await process.WaitForExitAsync();
        Assert.False(Directory.Exists($"/proc/{pid}"));
        return pid;
    }
}
