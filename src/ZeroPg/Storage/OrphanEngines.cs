using System.Text.Json;

namespace ZeroPg.Storage;

/// <summary>
/// Engine hosts of a server that was killed: the kernel frees the directory lock at once, but the
/// orphaned engine may still be finishing its last batch and closing PGlite for a second or two
/// (it exits when its stdin closes). A new server waits for them so two engines never share a
/// directory. Linux only (/proc); elsewhere there is nothing to find. A shared engine host (engine-pool.mjs) names no
/// directory on its command line: one that is not this process's own and holds a file under the directory open is one.
/// </summary>
internal static class OrphanEngines
{
    public static void WaitForExit(string directory, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Find(directory) is { Count: > 0 } pids)
        {
            if (DateTime.UtcNow > deadline)
                throw new InvalidOperationException(
                    $"Engine host process{(pids.Count > 1 ? "es" : "")} {string.Join(", ", pids)} of a previous server still use{(pids.Count > 1 ? "" : "s")} {directory}; stop {(pids.Count > 1 ? "them" : "it")} first.");
            Thread.Sleep(50);
        }
    }

    private static List<int> Find(string directory)
    {
        var found = new List<int>();
        if (!Directory.Exists("/proc"))
            return found;
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out var pid) || pid == Environment.ProcessId)
                continue;
            try
            {
                var arguments = File.ReadAllText(Path.Combine(entry, "cmdline")).Split('\0');
                if (arguments.Length >= 3 && arguments[1].EndsWith("host.mjs", StringComparison.Ordinal) && UsesDirectory(arguments[2], directory))
                    found.Add(pid);
                else if (arguments.Any(a => a.EndsWith(Engine.Pool.SharedEngineHost.ScriptName, StringComparison.Ordinal))
                    && ParentOf(entry) != Environment.ProcessId && HoldsFileUnder(entry, directory))
                    found.Add(pid);
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException)
            {
                // The process ended while we looked, or is not ours to read.
            }
        }
        return found;
    }

    private static int ParentOf(string processEntry)
    {
        var stat = File.ReadAllText(Path.Combine(processEntry, "stat"));
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static bool HoldsFileUnder(string processEntry, string directory)
    {
        var prefix = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)) + "/";
        foreach (var fd in Directory.EnumerateFileSystemEntries(Path.Combine(processEntry, "fd")))
        {
            if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith(prefix, StringComparison.Ordinal))
                return true;
        }
        return false;
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
