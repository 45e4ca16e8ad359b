namespace ZeroPg.Engine.Pool;

/// <summary>A command line to engine-pool.mjs (its header lists them), written in <see cref="HostJson"/>'s camelCase.</summary>
internal abstract record PoolCommand(string Op);

/// <summary>Start engine <paramref name="Id"/> in a worker: its FIFOs, host.mjs's options and the environment it adds.</summary>
internal sealed record PoolStart(long Id, EngineStartOptions Options, string Requests, string Replies, IReadOnlyDictionary<string, string> Env) : PoolCommand("start");

/// <summary>Stop engine <paramref name="Id"/>'s worker at once.</summary>
internal sealed record PoolTerminate(long Id) : PoolCommand("terminate");

/// <summary>Ask for every engine's WebAssembly heap size.</summary>
internal sealed record PoolMemory() : PoolCommand("memory");
