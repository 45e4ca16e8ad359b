namespace ZeroPg.Engine;

/// <summary>Where each database's PGlite engine runs (<see cref="ZeroPgOptions.EngineHost"/>).</summary>
public enum EngineHostMode
{
    /// <summary>
    /// Every engine is a worker thread of ONE node process that compiles PGlite once (engine-host/engine-pool.mjs): an idle
    /// engine costs ~45-55 MB idle instead of ~170-200 MB (bench/README.md), and one that dies ends only its own database's engine. Linux only
    /// (its channels are FIFOs); elsewhere engines run as <see cref="Process"/>.
    /// </summary>
    Shared,

    /// <summary>Every engine is a node process of its own (engine-host/host.mjs): all of an engine's memory goes back when it stops.</summary>
    Process,
}

internal static class EngineHostModes
{
    /// <summary>1: <see cref="EngineHostMode.Shared"/>, 0: <see cref="EngineHostMode.Process"/> (ZEROPG_ENGINE_HOST is the engine host's folder).</summary>
    public const string EnvironmentVariable = "ZEROPG_SHARED_ENGINE_HOST";

    /// <summary>$ZEROPG_SHARED_ENGINE_HOST (1 or 0), else <see cref="EngineHostMode.Shared"/>; a test run sets it to try every test in either mode.</summary>
    public static EngineHostMode FromEnvironment() => ParseSwitch(Environment.GetEnvironmentVariable(EnvironmentVariable)) ?? EngineHostMode.Shared;

    /// <summary>Throws when $ZEROPG_SHARED_ENGINE_HOST is set to neither 1 nor 0: a typo must not quietly pick a mode.</summary>
    public static void ValidateEnvironment()
    {
        var text = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(text) && ParseSwitch(text) is null)
            throw new ArgumentException($"{EnvironmentVariable} must be 1 (the shared engine host) or 0 (a process per engine), not \"{text}\".");
    }

    private static EngineHostMode? ParseSwitch(string? text) => text?.Trim() switch
    {
        "1" => EngineHostMode.Shared,
        "0" => EngineHostMode.Process,
        _ => null,
    };

    /// <summary>"shared" or "process" (any case; the CLI's --engine-host); null for anything else.</summary>
    public static EngineHostMode? Parse(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        "shared" => EngineHostMode.Shared,
        "process" => EngineHostMode.Process,
        _ => null,
    };

    /// <summary>Whether engines of <paramref name="options"/> run in the shared host on this machine.</summary>
    public static bool UsesSharedHost(ZeroPgOptions options) => options.EngineHost == EngineHostMode.Shared && Platform.HostPlatform.Current.HasSharedEngineHost;
}
