namespace ZeroPg.Engine;

/// <summary>
/// The memory settings each PGlite engine starts with. WebAssembly memory never shrinks, so whatever Postgres touches once
/// (shared buffers above all) stays with the engine for its life: with Postgres's own defaults an idle engine holds ~180 MB,
/// with the small ones ~90 MB (bench/engines/FINDINGS.md, "Issue 28"). A -c setting (<see cref="ZeroPgOptions.PostgresSettings"/>)
/// overrides either.
/// </summary>
public enum EngineMemory
{
    /// <summary>shared_buffers=16MB, wal_buffers=512kB, temp_buffers=1MB (work_mem stays 4MB: a sort takes it only when it runs).</summary>
    Small,

    /// <summary>Postgres's (and PGlite's) defaults: shared_buffers=128MB, wal_buffers=4MB, temp_buffers=8MB.</summary>
    Postgres,
}

internal static class EngineMemorySettings
{
    private static readonly string[] Small = ["-c", "shared_buffers=16MB", "-c", "wal_buffers=512kB", "-c", "temp_buffers=1MB"];

    /// <summary>The start parameters for <paramref name="memory"/> (none: PGlite's defaults).</summary>
    public static IReadOnlyList<string> StartParams(EngineMemory memory) => memory == EngineMemory.Small ? Small : [];
}
