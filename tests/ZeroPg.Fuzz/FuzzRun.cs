using System.Collections.Concurrent;
using System.Diagnostics;

namespace ZeroPg.Fuzz;

/// <summary>
/// One fuzz run against a server: <see cref="FuzzOptions.Clients"/> connections sending cases, a witness that must
/// keep being served, and a monitor that watches the engine (another one means it died) and memory.
/// The first stall or engine death ends the run with the cases in flight as suspects.
/// </summary>
public sealed class FuzzRun(FuzzOptions options, string host, int port, string witnessConnectionString, ServerProbe probe)
{
    private const int RecentPerClient = 4;

    private readonly ConcurrentQueue<FuzzCaseId>[] _recent = Enumerable.Range(0, options.Clients).Select(_ => new ConcurrentQueue<FuzzCaseId>()).ToArray();
    private readonly long[] _outcomes = new long[Enum.GetValues<CaseRunner.Outcome>().Length];
    private long _messages;
    private long _cases;
    private long _copyModeCases;
    private long _sweepNext = options.CopySweep ? 0 : CaseGenerator.CopySweepCases;
    private long _sweepSent;

    public async Task<FuzzReport> RunAsync(CancellationToken cancel = default)
    {
        options.Validate();
        var clock = Stopwatch.StartNew();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        if (options.Duration > TimeSpan.Zero)
            stop.CancelAfter(options.Duration);

        var engineAtStart = probe.EngineIdentity();
        var countsAtStart = probe.Counts();
        var serverRssBefore = probe.ServerResidentBytes();
        var engineRssBefore = probe.EngineResidentBytes();
        var witness = new Witness(witnessConnectionString, options.WitnessBound);
        await witness.SetUpAsync(stop.Token);
        string? failure = null;
        var engineDeaths = 0L;
        var stalls = 0L;
        List<FuzzCaseId> suspects = [];
        void Fail(string what)
        {
            lock (_recent)
            {
                if (failure is not null)
                    return;
                failure = what;
                suspects = _recent.SelectMany(q => q).ToList();
            }
            // Said at once: if the wind-down itself hangs on a wedged server, the suspects are already out.
            Console.Error.WriteLine($"FUZZ FAILURE (seed {options.Seed}): {what}; suspects {string.Join(",", suspects)}");
            stop.Cancel();
        }

        var witnessTask = Task.Run(async () =>
        {
            if (await witness.RunAsync(stop.Token) is { } stall)
            {
                Interlocked.Increment(ref stalls);
                Fail(stall);
            }
        }, CancellationToken.None);
        var clients = Enumerable.Range(0, options.Clients).Select(client => Task.Run(() => ClientAsync(client, stop), CancellationToken.None)).ToArray();
        var monitor = Task.Run(async () =>
        {
            var lastProgress = clock.Elapsed;
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(200, CancellationToken.None);
                var engine = probe.EngineIdentity();
                if (engine != engineAtStart)
                {
                    Interlocked.Increment(ref engineDeaths);
                    Fail($"the {engineAtStart} is gone (now {engine ?? "none"})");
                }
                if (options.ProgressEvery is { } every && clock.Elapsed - lastProgress >= every)
                {
                    lastProgress = clock.Elapsed;
                    Console.WriteLine($"[{clock.Elapsed.TotalSeconds:0} s] {Interlocked.Read(ref _messages):N0} messages, {Interlocked.Read(ref _cases):N0} cases; " +
                        $"witness {witness.Queries:N0} rounds (slowest call {witness.Slowest.TotalMilliseconds:0} ms, in this interval {witness.TakeIntervalSlowest().TotalMilliseconds:0} ms); server RSS {probe.ServerResidentBytes() / (1 << 20)} MB, engine RSS {probe.EngineResidentBytes() / (1 << 20)} MB");
                }
            }
        }, CancellationToken.None);

        await Task.WhenAll(clients);
        stop.Cancel();
        // A witness query stuck on a wedged server must not hold the report back: that stall is already counted.
        await Task.WhenAny(Task.WhenAll(witnessTask, monitor), Task.Delay(options.WitnessBound * 2, CancellationToken.None));
        // A stall after the last case still counts: the witness must be answered once more, now.
        if (failure is null && await new Witness(witnessConnectionString, options.WitnessBound).RunOnceAsync() is { } late)
        {
            stalls++;
            failure = "after the run: " + late;
            suspects = _recent.SelectMany(q => q).ToList();
        }
        if (failure is null && probe.EngineIdentity() != engineAtStart)
        {
            engineDeaths++;
            failure = "the engine changed during the run";
            suspects = _recent.SelectMany(q => q).ToList();
        }
        var countsAtEnd = probe.Counts();
        return new FuzzReport
        {
            EngineKills = countsAtEnd is null || countsAtStart is null ? null : countsAtEnd.Killed - countsAtStart.Killed,
            CancelsWaitedFor = countsAtEnd is null || countsAtStart is null ? null : countsAtEnd.Waited - countsAtStart.Waited,
            EngineRestarts = countsAtEnd is null || countsAtStart is null ? null : countsAtEnd.Restarts - countsAtStart.Restarts,
            Seed = options.Seed,
            Cases = _cases,
            Messages = _messages,
            CopyModeCases = _copyModeCases,
            CopySweepSent = _sweepSent,
            Stalls = stalls,
            EngineDeaths = engineDeaths,
            WitnessQueries = witness.Queries,
            WitnessReconnects = witness.Reconnects,
            WitnessSlowest = witness.Slowest,
            WitnessSlowestCall = witness.SlowestCall,
            Elapsed = clock.Elapsed,
            ServerRssBefore = serverRssBefore,
            ServerRssAfter = probe.ServerResidentBytes(),
            EngineRssBefore = engineRssBefore,
            EngineRssAfter = probe.EngineResidentBytes(),
            Outcomes = Enum.GetValues<CaseRunner.Outcome>().ToDictionary(o => o, o => _outcomes[(int)o]),
            Failure = failure,
            Suspects = suspects,
        };
    }

    /// <summary>Sends the COPY-mode sweep's cases while any are left (the clients share them), then random cases of its own.</summary>
    private async Task ClientAsync(int client, CancellationTokenSource stop)
    {
        var recent = _recent[client];
        for (long index = 0; !stop.IsCancellationRequested;)
        {
            if (options.MaxMessages > 0 && Interlocked.Read(ref _messages) >= options.MaxMessages)
            {
                stop.Cancel();
                return;
            }
            var sweep = Interlocked.Increment(ref _sweepNext) - 1;
            var id = sweep < CaseGenerator.CopySweepCases ? new FuzzCaseId(options.Seed, FuzzCaseId.CopySweep, sweep) : new FuzzCaseId(options.Seed, client, index++);
            var fuzzCase = CaseGenerator.Make(id);
            recent.Enqueue(id);
            while (recent.Count > RecentPerClient)
                recent.TryDequeue(out _);
            CaseRunner.Outcome outcome;
            try
            {
                outcome = await CaseRunner.RunAsync(fuzzCase, host, port, options.CaseQuiet, stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            Interlocked.Increment(ref _outcomes[(int)outcome]);
            Interlocked.Add(ref _messages, fuzzCase.Messages.Count);
            Interlocked.Increment(ref _cases);
            if (fuzzCase.CopyMode)
                Interlocked.Increment(ref _copyModeCases);
            if (id.Client == FuzzCaseId.CopySweep)
                Interlocked.Increment(ref _sweepSent);
        }
    }
}
