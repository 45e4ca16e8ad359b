using ZeroPg.Platform.Linux;
using System.Text.Json;

namespace ZeroPg.Storage;

/// <summary>
/// Engine hosts of a server that was killed: the kernel frees the directory lock at once, but the
/// orphaned engine may still be finishing its last batch and closing PGlite for a second or two
/// (it exits when its stdin closes). A new server waits for them so two engines never share a
/// directory. Linux only (/proc); elsewhere there is nothing to find. A shared engine host (engine-pool.mjs) names no
/// directory on its command line: one that is not this process's own and holds a file under the directory open is one.
/// A live server's engine is found too when the directory was deleted and copied anew under it (the new copy's lock is
/// free): the refusal then names that server, since waiting cannot free the directory.
/// </summary>
internal static class OrphanEngines
{
    public static void WaitForExit(string directory, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Find(directory) is { Count: > 0 } pids)
        {
            if (DateTime.UtcNow > deadline)
                throw new InvalidOperationException(Refusal(directory, pids));
            Thread.Sleep(50);
        }
    }

    /// <summary>
    /// Names the server when it still runs: its engine host's parent holds a file under the directory too (its lock file,
    /// deleted when the directory was replaced under it), and only stopping that server frees the directory.
    /// </summary>
    private static string Refusal(string directory, List<int> pids)
    {
        var servers = pids.Select(pid => LiveServerOf(pid, directory)).OfType<int>().Distinct().ToList();
        var hosts = $"process{Plural(pids, "es")} {string.Join(", ", pids)}";
        if (servers.Count > 0)
            return $"Server process{Plural(servers, "es")} {string.Join(", ", servers)} still run{Plural(servers, "", "s")} an engine that holds files under {directory}"
                + $" (engine host {hosts}); was the directory replaced while {Plural(servers, "they", "it")} ran? Stop {Plural(servers, "them", "it")} first.";
        return $"Engine host {hosts} of a stopped server still use{Plural(pids, "", "s")} {directory}; stop {Plural(pids, "them", "it")} first.";
    }

    /// <summary><paramref name="many"/> for more than one item, else <paramref name="one"/>.</summary>
    private static string Plural(List<int> items, string many, string one = "") => items.Count > 1 ? many : one;

    private static int? LiveServerOf(int host, string directory)
    {
        try
        {
            var parent = ParentOf(host);
            // Not "parent > 1": in a container the server may be PID 1 itself; init holds no file under the directory.
            return parent > 0 && HoldsFileUnder(parent, directory) ? parent : null;
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return null; // the host or its parent ended while we looked
        }
    }

    private static List<int> Find(string directory)
    {
        var found = new List<int>();
        foreach (var pid in ProcFs.Pids())
        {
            if (pid == Environment.ProcessId)
                continue;
            try
            {
                if (ProcFs.CommandLine(pid) is not { } arguments)
                    continue; // ended while we looked
                if (arguments.Length >= 3 && arguments[1].EndsWith("host.mjs", StringComparison.Ordinal) && UsesDirectory(arguments[2], directory))
                    found.Add(pid);
                else if (arguments.Any(a => a.EndsWith(Engine.Pool.SharedEngineHost.ScriptName, StringComparison.Ordinal))
                    && ParentOf(pid) != Environment.ProcessId && HoldsFileUnder(pid, directory))
                    found.Add(pid);
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException)
            {
                // The process ended while we looked, or is not ours to read.
            }
        }
        return found;
    }

    private static int ParentOf(int pid)
        => ProcFs.StatFields(pid) is { } fields ? int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture) : throw new IOException($"process {pid} ended");

    private static bool HoldsFileUnder(int pid, string directory)
    {
        var prefix = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)) + "/";
        return ProcFs.OpenFileTargets(pid).Any(target => target.StartsWith(prefix, StringComparison.Ordinal));
    }

    private static bool UsesDirectory(string startOptions, string directory)
    {
        try
        {
            using var document = JsonDocument.Parse(startOptions);
            return document.RootElement.TryGetProperty("dataDir", out var dataDir) && dataDir.GetString() == directory;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
