using System.Text;

namespace ZeroPg.Fuzz;

public sealed class FuzzReport
{
    public required int Seed { get; init; }
    public long Cases { get; init; }
    public long Messages { get; init; }

    /// <summary>Cases with messages in COPY mode, the sweep's included.</summary>
    public long CopyModeCases { get; init; }

    /// <summary>Of the sweep's shapes (every message type x size x whole or truncated x COPY IN or OUT), how many were sent.</summary>
    public long CopySweepSent { get; init; }

    public long Stalls { get; init; }
    public long EngineDeaths { get; init; }
    /// <summary>From the server's /metrics: engines killed to stop a batch past its cancel, such batches waited for, restarts.</summary>
    public long? EngineKills { get; init; }
    public long? CancelsWaitedFor { get; init; }
    public long? EngineRestarts { get; init; }
    public long WitnessQueries { get; init; }
    public long WitnessReconnects { get; init; }
    public TimeSpan WitnessSlowest { get; init; }

    public string WitnessSlowestCall { get; init; } = "";
    public TimeSpan Elapsed { get; init; }
    public long? ServerRssBefore { get; init; }
    public long? ServerRssAfter { get; init; }
    public long? EngineRssBefore { get; init; }
    public long? EngineRssAfter { get; init; }
    public IReadOnlyDictionary<CaseRunner.Outcome, long> Outcomes { get; init; } = new Dictionary<CaseRunner.Outcome, long>();

    /// <summary>What went wrong (null when nothing did).</summary>
    public string? Failure { get; init; }

    /// <summary>The cases on the wire when it went wrong, most recent last, each fully described.</summary>
    public IReadOnlyList<FuzzCaseId> Suspects { get; init; } = [];

    public bool Passed => Failure is null && (EngineKills ?? 0) == 0 && (EngineRestarts ?? 0) == 0;

    public override string ToString()
    {
        var text = new StringBuilder();
        text.AppendLine($"seed {Seed}: {Messages:N0} messages in {Cases:N0} cases, {Elapsed.TotalSeconds:0} s ({Messages / Math.Max(1, Elapsed.TotalSeconds):N0}/s)");
        text.AppendLine($"outcomes: {string.Join(", ", Outcomes.Select(o => $"{o.Key} {o.Value:N0}"))}");
        text.AppendLine($"COPY-mode cases {CopyModeCases:N0}, the sweep's {CopySweepSent} of {CaseGenerator.CopySweepCases} shapes among them");
        text.AppendLine($"stalls {Stalls}, engine deaths {EngineDeaths}; witness {WitnessQueries:N0} rounds, {WitnessReconnects} reconnects, slowest call {WitnessSlowest.TotalMilliseconds:0} ms ({WitnessSlowestCall})");
        text.AppendLine($"engine kills {EngineKills?.ToString() ?? "?"}, cancels past their bound waited for {CancelsWaitedFor?.ToString() ?? "?"}, engine restarts {EngineRestarts?.ToString() ?? "?"} (the server's /metrics)");
        text.AppendLine($"server RSS {Mb(ServerRssBefore)} -> {Mb(ServerRssAfter)}; engine RSS {Mb(EngineRssBefore)} -> {Mb(EngineRssAfter)}");
        if (Failure is not null)
        {
            text.AppendLine($"FAILED: {Failure}");
            text.AppendLine($"reproduce: dotnet run --project tests/ZeroPg.Fuzz -- --replay {string.Join(",", Suspects)}");
            foreach (var suspect in Suspects)
                text.AppendLine(CaseGenerator.Make(suspect).Describe());
        }
        return text.ToString();
    }

    private static string Mb(long? bytes) => bytes is { } b ? $"{b / (1024.0 * 1024):0} MB" : "?";
}
