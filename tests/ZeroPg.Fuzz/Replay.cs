namespace ZeroPg.Fuzz;

/// <summary>Sends given cases one after another to a server, then checks that it still serves and its engine lived.</summary>
public static class Replay
{
    /// <returns>null when the server came through; otherwise what went wrong and after which case.</returns>
    public static async Task<string?> RunAsync(IReadOnlyList<FuzzCaseId> cases, string host, int port, string witnessConnectionString, ServerProbe probe, TimeSpan witnessBound)
    {
        var engine = probe.EngineIdentity();
        var witness = new Witness(witnessConnectionString, witnessBound);
        foreach (var id in cases)
        {
            await CaseRunner.RunAsync(CaseGenerator.Make(id), host, port, TimeSpan.FromSeconds(1), CancellationToken.None);
            if (await witness.RunOnceAsync() is { } stall)
                return $"after case {id}: {stall}";
            if (probe.EngineIdentity() != engine)
                return $"after case {id}: the {engine} died";
        }
        return null;
    }
}
