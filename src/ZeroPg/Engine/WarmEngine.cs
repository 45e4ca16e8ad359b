using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace ZeroPg.Engine;

/// <summary>
/// One spare memory:// engine per process, started from the snapshot in the background, so the next
/// server with the same launch settings (a test fixture's next database) gets a ready engine at once.
/// It costs one idle engine's memory (a worker of the shared engine host, or a process); it exits with this process (its requests close).
/// </summary>
internal static class WarmEngine
{
    private static readonly Lock Gate = new();
    private static string? _key;
    private static Task<(EngineProcess Engine, EngineStartupInfo Info)>? _spare;

    /// <summary>The spare engine once it has started and waits to be taken (tests).</summary>
    public static EngineProcess? ReadySpare
    {
        get
        {
            lock (Gate)
                return _spare is { IsCompletedSuccessfully: true } ready ? ready.Result.Engine : null;
        }
    }

    /// <summary>The spare engine if one with these settings is ready and alive; it is no longer spare.</summary>
    public static (EngineProcess Engine, EngineStartupInfo Info)? TryTake(EngineLaunchOptions launch)
    {
        Task<(EngineProcess, EngineStartupInfo)>? spare;
        lock (Gate)
        {
            if (_spare is null || _key != Key(launch) || !_spare.IsCompletedSuccessfully)
                return null;
            spare = _spare;
            _spare = null;
            _key = null;
        }
        var (engine, info) = spare.Result;
        if (engine.IsFailed)
            return null;
        engine.Metrics = launch.Metrics;
        return (engine, info);
    }

    /// <summary>Starts a spare engine with these settings unless one is already there or starting.</summary>
    public static void Prepare(EngineLaunchOptions launch, ILogger logger, TimeSpan timeout)
    {
        var key = Key(launch);
        lock (Gate)
        {
            if (_spare is not null && _key == key && !_spare.IsFaulted)
                return;
            var previous = _spare;
            _key = key;
            _spare = EngineProcess.StartAsync(launch with { Metrics = null }, logger, timeout, CancellationToken.None);
            if (previous is not null)
                _ = DisposeAsync(previous);
        }
    }

    private static async Task DisposeAsync(Task<(EngineProcess Engine, EngineStartupInfo Info)> spare)
    {
        try
        {
            await (await spare).Engine.DisposeAsync();
        }
        catch (Exception)
        {
            // A spare that failed to start has nothing to close.
        }
    }

    private static string Key(EngineLaunchOptions launch) => JsonSerializer.Serialize(new SpareKey(launch.NodePath, launch.HostScriptPath,
        launch.DataDirectory, launch.Database, launch.Extensions, launch.LoadDataDir, launch.StartParams, launch.Durability, launch.MemoryLimitMb, launch.PollWindow,
        launch.ReplyPollWindow, launch.Environment, launch.SharedHost, launch.HostCpus), HostJson.Default.SpareKey);

    /// <summary>What a spare was started with: a start takes it only if its own options are the same.</summary>
    internal sealed record SpareKey(string NodePath, string HostScriptPath, string DataDirectory, string? Database, IReadOnlyList<string> Extensions,
        string? LoadDataDir, IReadOnlyList<string> StartParams, EngineDurability Durability, int MemoryLimitMb, TimeSpan PollWindow, TimeSpan ReplyPollWindow,
        IReadOnlyDictionary<string, string> Environment, Pool.SharedHostSettings? SharedHost, IReadOnlyList<int>? HostCpus);
}
