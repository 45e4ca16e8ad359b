using System.Diagnostics;
using ZeroPg.Engine;
using ZeroPg.Tests.Cli;

namespace ZeroPg.Tests.Engine;

/// <summary>
/// A server killed while its engine host starts leaves its doorbell in /dev/shm (the name goes only once the host has the file
/// open, or at a clean stop). The next server's first doorbell removes those of processes that are gone.
/// </summary>
public sealed class EngineDoorbellTests
{
    [Fact]
    public async Task Only_old_doorbells_of_processes_that_are_gone_are_removed()
    {
        using var directory = new TempDirectory();
        var gone = await DeadProcessIdAsync();
        var now = DateTime.UtcNow;
        var stale = Plant(directory.Path, gone, now - TimeSpan.FromMinutes(5));
        var young = Plant(directory.Path, gone, now - TimeSpan.FromSeconds(5)); // its server may be in another PID namespace, starting
        var live = Plant(directory.Path, 1, now - TimeSpan.FromMinutes(5)); // PID 1 runs
        var own = Plant(directory.Path, Environment.ProcessId, now - TimeSpan.FromMinutes(5));
        var other = Path.Combine(directory.Path, $"zeropg-engine-{gone}-x.in");
        File.WriteAllBytes(other, new byte[8]);
        File.SetLastWriteTimeUtc(other, now - TimeSpan.FromMinutes(5));

        Assert.Equal(1, EngineDoorbell.RemoveStale(directory.Path, now));

        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(young));
        Assert.True(File.Exists(live));
        Assert.True(File.Exists(own));
        Assert.True(File.Exists(other));
    }

    [Fact]
    public async Task A_new_server_removes_the_doorbell_a_killed_one_left()
    {
        var gone = await DeadProcessIdAsync();
        var left = Plant("/dev/shm", gone, DateTime.UtcNow - TimeSpan.FromMinutes(5));
        try
        {
            // A process of its own: the sweep runs at a process's first doorbell, which this test process made long ago.
            await using var cli = await CliProcess.StartReadyAsync("--port", "0");
            Assert.False(File.Exists(left), "the doorbell of a process that is gone is still there after a new server started");
        }
        finally
        {
            File.Delete(left);
        }
    }

    private static string Plant(string directory, int pid, DateTime written)
    {
        var path = Path.Combine(directory, $"zeropg-doorbell-{pid}-{Guid.NewGuid():N}");
        File.WriteAllBytes(path, new byte[8]);
        File.SetLastWriteTimeUtc(path, written);
        return path;
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
