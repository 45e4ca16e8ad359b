namespace ZeroPg.Hosting;

/// <summary>What an engine is doing, as /metrics and the dashboard show it.</summary>
internal enum EngineState
{
    /// <summary>It runs and serves at least one client.</summary>
    Running,

    /// <summary>It runs with no client (under --db DIR it is evicted after --database-idle-timeout; memory:// engines stay).</summary>
    Idle,

    /// <summary>No engine runs for the database: stopped after the idle timeout (or not started since the server started); its memory went back, the next client starts it.</summary>
    Evicted,

    /// <summary>Started ahead for the next CREATE DATABASE, no database's yet.</summary>
    Spare,
}

/// <summary>
/// One database's engine for /metrics: its state and the memory it holds: its process's resident memory (a process per engine)
/// or its WebAssembly heap (a worker of the shared engine host, whose process is shared and reported once); and how many times
/// its engine died and was restarted (a worker of the shared host dies in a process that lives on: only this count shows it).
/// </summary>
internal sealed record DatabaseEngineMetric(string Database, EngineState State, long? MemoryBytes, bool SharedHost, int Restarts = 0)
{
    public bool Running => State is EngineState.Running or EngineState.Idle;
}

/// <summary>The spare engine kept for the next CREATE DATABASE (<paramref name="Template"/>: a copy of it, else an empty database).</summary>
internal sealed record SpareEngineMetric(string? Template, long? MemoryBytes, bool SharedHost, int ProcessId);
