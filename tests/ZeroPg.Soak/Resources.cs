using System.Globalization;

namespace ZeroPg.Soak;

/// <summary>
/// The server's and the engine hosts' resident memory, threads and open descriptors, sampled on a period (a minute in a
/// long run), and their growth: a least-squares slope over the samples from <see cref="SoakOptions.GrowthFrom"/> on,
/// times that span. The kills start new processes (an engine host lives 5 minutes, a server 15): a leak shows as a slope
/// across them all the same, since each new process starts from the same floor.
/// </summary>
public sealed class Resources(SoakContext context)
{
    private readonly List<Sample> _samples = [];

    public sealed record Sample(double Minute, int ServerPid, long ServerRssMb, int ServerThreads, int ServerFds,
        string EngineHostPids, long EngineRssMb, int EngineThreads, int EngineFds, int Engines, long EngineHostFloorMb, MemoryMap.Breakdown? EngineMap = null);

    public async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(context.Options.SampleEvery, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            await TakeSampleAsync(stop);
        }
    }

    public async Task TakeSampleAsync(CancellationToken cancel)
    {
        // The server's own view: how many engines the host runs, and what it holds beyond their WebAssembly heaps (a leak
        // of the host shows there, not in the heaps that only grow).
        var metrics = await context.Server.MetricsAsync(cancel) ?? "";
        var engines = (int)Metric(metrics, "zeropg_shared_engine_host_engines");
        var floorMb = (long)Metric(metrics, "zeropg_shared_engine_host_floor_bytes") >> 20;
        if (context.Server.ProcessId is not { } server)
            return;
        var hosts = context.Server.EngineHosts();
        var (serverRss, serverThreads) = Status(server);
        long engineRss = 0;
        int engineThreads = 0, engineFds = 0;
        long wasm = 0, buffers = 0, malloc = 0, anonymous = 0, files = 0;
        foreach (var host in hosts)
        {
            var (rss, threads) = Status(host);
            var map = MemoryMap.Read(host);
            (wasm, buffers, malloc, anonymous, files) = (wasm + map.WasmMb, buffers + map.ReservedBuffersMb, malloc + map.MallocHeapMb, anonymous + map.OtherAnonymousMb, files + map.FilesMb);
            engineRss += rss;
            engineThreads += threads;
            engineFds += Descriptors(host);
        }
        var sample = new Sample(Math.Round(context.Timeline.Now.TotalMinutes, 2), server, serverRss >> 10, serverThreads, Descriptors(server),
            string.Join(",", hosts), engineRss >> 10, engineThreads, engineFds, engines, floorMb, new MemoryMap.Breakdown(wasm, buffers, malloc, anonymous, files));
        lock (_samples)
            _samples.Add(sample);
        context.Progress($"resources: server {sample.ServerRssMb} MB {sample.ServerThreads} threads {sample.ServerFds} fds; engine hosts [{sample.EngineHostPids}] {sample.EngineRssMb} MB {sample.EngineThreads} threads {sample.EngineFds} fds, {sample.Engines} engines, {sample.EngineHostFloorMb} MB beyond their heaps; resident in WebAssembly memories {wasm} MB, resizable buffers {buffers} MB, malloc {malloc} MB, other anonymous (V8 heaps, code) {anonymous} MB, files {files} MB");
    }

    private static double Metric(string metrics, string name)
    {
        foreach (var line in metrics.Split('\n'))
        {
            if (line.StartsWith(name + " ", StringComparison.Ordinal)
                && double.TryParse(line[(name.Length + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                return value;
        }
        return 0;
    }

    private static (long RssKb, int Threads) Status(int pid)
    {
        long rss = 0;
        var threads = 0;
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    rss = long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                else if (line.StartsWith("Threads:", StringComparison.Ordinal))
                    threads = int.Parse(line[8..].Trim(), CultureInfo.InvariantCulture);
            }
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or FormatException)
        {
        }
        return (rss, threads);
    }

    private static int Descriptors(int pid)
    {
        try
        {
            return Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length;
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    public IReadOnlyList<Sample> Samples
    {
        get
        {
            lock (_samples)
                return [.. _samples];
        }
    }

    /// <summary>Growth over the window from <see cref="SoakOptions.GrowthFrom"/>: slope (per minute) times the window's minutes.</summary>
    public Dictionary<string, double> Growth()
    {
        var window = Samples.Where(s => s.Minute >= context.Options.GrowthFrom.TotalMinutes).ToList();
        var growth = new Dictionary<string, double>();
        foreach (var (name, value) in new (string, Func<Sample, double>)[]
                 {
                     ("serverRssMb", s => s.ServerRssMb), ("serverThreads", s => s.ServerThreads), ("serverFds", s => s.ServerFds),
                     ("engineRssMb", s => s.EngineRssMb), ("engineHostFloorMb", s => s.EngineHostFloorMb), ("engineThreads", s => s.EngineThreads), ("engineFds", s => s.EngineFds),
                 })
        {
            growth[name] = window.Count < 3 ? 0 : Math.Round(Slope(window, value) * (window[^1].Minute - window[0].Minute), 1);
        }
        // The kills reset the processes (an engine host lives 5 minutes, a server 15), so the samples saw-tooth and a slope over
        // them says more about when the kills fell than about leaks. Each life's peak does not: a leak raises the peaks.
        foreach (var (name, key, value) in new (string, Func<Sample, string>, Func<Sample, double>)[]
                 {
                     ("serverRssMbPeaks", s => s.ServerPid.ToString(CultureInfo.InvariantCulture), s => s.ServerRssMb),
                     ("serverFdsPeaks", s => s.ServerPid.ToString(CultureInfo.InvariantCulture), s => s.ServerFds),
                     ("serverThreadsPeaks", s => s.ServerPid.ToString(CultureInfo.InvariantCulture), s => s.ServerThreads),
                     ("engineRssMbPeaks", s => s.EngineHostPids, s => s.EngineRssMb),
                     ("engineFdsPeaks", s => s.EngineHostPids, s => s.EngineFds),
                     ("engineWasmMbPeaks", s => s.EngineHostPids, s => s.EngineMap?.WasmMb ?? 0),
                     ("engineBuffersMbPeaks", s => s.EngineHostPids, s => s.EngineMap?.ReservedBuffersMb ?? 0),
                     ("engineMallocMbPeaks", s => s.EngineHostPids, s => s.EngineMap?.MallocHeapMb ?? 0),
                     ("engineOtherAnonymousMbPeaks", s => s.EngineHostPids, s => s.EngineMap?.OtherAnonymousMb ?? 0),
                     ("engineThreadsPeaks", s => s.EngineHostPids, s => s.EngineThreads),
                 })
        {
            var peaks = window.GroupBy(key).Where(life => life.Count() >= 3)
                .Select(life => new Sample(life.First().Minute, 0, (long)life.Max(value), 0, 0, "", 0, 0, 0, 0, 0)).ToList();
            growth[name] = peaks.Count < 3 ? 0 : Math.Round(Slope(peaks, p => p.ServerRssMb) * (window[^1].Minute - window[0].Minute), 1);
        }
        growth["windowFromMinute"] = window.Count == 0 ? 0 : window[0].Minute;
        growth["windowToMinute"] = window.Count == 0 ? 0 : window[^1].Minute;
        return growth;
    }

    /// <summary>
    /// Each process's life (a server pid, an engine host pid): its first and last sample's RSS. The kills cut lives short (an
    /// engine host lives 5 minutes): growth within a life is what a leak or a heap that only grows shows first.
    /// </summary>
    public List<Dictionary<string, object>> Lives()
    {
        var lives = new List<Dictionary<string, object>>();
        foreach (var (kind, key, rss) in new (string, Func<Sample, string>, Func<Sample, long>)[]
                 {
                     ("server", s => s.ServerPid.ToString(CultureInfo.InvariantCulture), s => s.ServerRssMb),
                     ("engine host", s => s.EngineHostPids, s => s.EngineRssMb),
                 })
        {
            foreach (var life in Samples.GroupBy(key).Where(g => g.Key.Length > 0))
            {
                var samples = life.ToList();
                lives.Add(new Dictionary<string, object>
                {
                    ["process"] = kind,
                    ["pid"] = life.Key,
                    ["fromMinute"] = samples[0].Minute,
                    ["toMinute"] = samples[^1].Minute,
                    ["firstRssMb"] = rss(samples[0]),
                    ["lastRssMb"] = rss(samples[^1]),
                    ["maxRssMb"] = samples.Max(rss),
                    ["firstMap"] = kind == "engine host" ? (object?)samples[0].EngineMap ?? "" : "",
                    ["lastMap"] = kind == "engine host" ? (object?)samples[^1].EngineMap ?? "" : "",
                });
            }
        }
        return lives;
    }

    private static double Slope(List<Sample> samples, Func<Sample, double> value)
    {
        var meanX = samples.Average(s => s.Minute);
        var meanY = samples.Average(value);
        var num = samples.Sum(s => (s.Minute - meanX) * (value(s) - meanY));
        var den = samples.Sum(s => (s.Minute - meanX) * (s.Minute - meanX));
        return den == 0 ? 0 : num / den;
    }
}
