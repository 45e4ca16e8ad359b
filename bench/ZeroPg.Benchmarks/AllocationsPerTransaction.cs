using System.Diagnostics;
using System.Diagnostics.Tracing;

namespace ZeroPg.Benchmarks;

/// <summary>
/// `dotnet run -c Release -- allocations [pgbench args]` (default `-S -c 1 -j 1 -t 2000`): the bytes the server allocates per
/// transaction (exact: GC.GetTotalAllocatedBytes) and by type (the runtime's AllocationTick samples, one per ~100 KB: an
/// estimate), with an in-process server on memory:// and pgbench against it. Allocations are counted, not timed, so the
/// figure is the same on a busy machine.
/// </summary>
internal static class AllocationsPerTransaction
{
    private sealed class Listener : EventListener
    {
        public readonly Dictionary<string, long> Bytes = new();
        public bool On;
        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name == "Microsoft-Windows-DotNETRuntime")
                EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1); // GC keyword: AllocationTick
        }
        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (!On || e.EventName != "GCAllocationTick_V4" && e.EventName != "GCAllocationTick_V3") return;
            var type = e.Payload![e.PayloadNames!.IndexOf("TypeName")] as string ?? "?";
            var amount = Convert.ToInt64(e.Payload[e.PayloadNames.IndexOf("AllocationAmount64")]);
            lock (Bytes) Bytes[type] = Bytes.GetValueOrDefault(type) + amount;
        }
    }

    public static async Task<int> RunAsync(string[] args)
    {
        using var listener = new Listener();
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { Port = 0 }, null);
        Console.WriteLine($"# load average {File.ReadAllText("/proc/loadavg").Trim()}");
        var port = server.Port;
        Environment.SetEnvironmentVariable("PGPASSWORD", "postgres");
        Run($"-h 127.0.0.1 -p {port} -U postgres -i -s 1 postgres");
        var bench = args.Length > 1 ? string.Join(' ', args[1..]) : "-S -c 1 -j 1 -t 2000";
        Run($"-h 127.0.0.1 -p {port} -U postgres {bench} postgres");
        listener.On = true;
        var before = GC.GetTotalAllocatedBytes(true);
        var output = Run($"-h 127.0.0.1 -p {port} -U postgres {bench} postgres");
        var allocated = GC.GetTotalAllocatedBytes(true) - before;
        listener.On = false;
        var tx = long.Parse(output.Split('\n').First(l => l.StartsWith("number of transactions actually processed")).Split(':')[1].Trim().Split('/')[0].Split(' ')[0]);
        Console.WriteLine($"{allocated / tx} bytes allocated per transaction ({tx} transactions)");
        lock (listener.Bytes)
            foreach (var (type, bytes) in listener.Bytes.OrderByDescending(p => p.Value).Take(40))
                Console.WriteLine($"  {bytes / tx,8} B/tx  {type}");
        return 0;
    }

    private static string Run(string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo("pgbench", arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return output;
    }
}
