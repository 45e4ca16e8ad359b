namespace ZeroPg.Hosting;

/// <summary>
/// One database's engine for /metrics: whether it runs (an idle database's engine is stopped after --database-idle-timeout)
/// and the memory it holds: its process's resident memory (a process per engine) or its WebAssembly heap (a worker of the
/// shared engine host, whose process is shared and reported once).
/// </summary>
internal sealed record DatabaseEngineMetric(string Database, bool Running, long? MemoryBytes, bool SharedHost);
