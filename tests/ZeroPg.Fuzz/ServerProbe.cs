using System.Globalization;

namespace ZeroPg.Fuzz;

/// <summary>What the fuzzer watches of the server under test: its engine (another one means the old died) and memory.</summary>
public abstract class ServerProbe
{
    /// <summary>Names the engine serving postgres now: a new name after it died and restarted.</summary>
    public abstract string? EngineIdentity();

    /// <summary>The process the engine runs in (the shared engine host runs every database's engine: its memory is all of theirs).</summary>
    public abstract int? EngineProcessId();

    /// <summary>The resident memory of the process that runs the server (for an in-process server, the fuzzer's own process too).</summary>
    public abstract long? ServerResidentBytes();

    public long? EngineResidentBytes() => EngineProcessId() is { } pid ? ResidentBytes(pid) : null;

    /// <summary>A server in this process.</summary>
    public static ServerProbe Of(ZeroPgServer server) => new InProcess(server);

    /// <summary>
    /// A `zeropg serve` process: its engine is its node child. Its pid is the engine's identity: run it with --engine-host
    /// process, since an engine of the shared host (the default) dies and restarts in the same process.
    /// </summary>
    public static ServerProbe OfProcess(int serverPid) => new External(serverPid);

    public static long? ResidentBytes(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or FormatException)
        {
        }
        return null;
    }

    private sealed class InProcess(ZeroPgServer server) : ServerProbe
    {
        public override string? EngineIdentity() => server.EngineId is { } id ? $"engine {id}" : null;

        public override int? EngineProcessId() => server.EngineProcessId;

        public override long? ServerResidentBytes() => ResidentBytes(Environment.ProcessId);
    }

    private sealed class External(int serverPid) : ServerProbe
    {
        public override string? EngineIdentity() => EngineProcessId() is { } pid ? $"engine host pid {pid}" : null;

        public override int? EngineProcessId()
        {
            try
            {
                foreach (var task in Directory.EnumerateDirectories($"/proc/{serverPid}/task"))
                {
                    foreach (var child in File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    {
                        var pid = int.Parse(child, CultureInfo.InvariantCulture);
                        if (File.ReadAllText($"/proc/{pid}/comm").Trim() is "node" or "MainThread")
                            return pid;
                    }
                }
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException or FormatException)
            {
            }
            return null;
        }

        public override long? ServerResidentBytes() => ResidentBytes(serverPid);
    }
}
