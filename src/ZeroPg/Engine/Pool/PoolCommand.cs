using System.Text.Json.Serialization;

namespace ZeroPg.Engine.Pool;

/// <summary>A command line to engine-pool.mjs (its header lists them): `op` names it, written in <see cref="HostJson"/>'s camelCase.</summary>
[JsonDerivedType(typeof(PoolStart))]
[JsonDerivedType(typeof(PoolTerminate))]
[JsonDerivedType(typeof(PoolMemory))]
internal abstract record PoolCommand
{
    [JsonPropertyOrder(-1)]
    public abstract string Op { get; }
}

/// <summary>Start engine <paramref name="Id"/> in a worker: its FIFOs, host.mjs's options and the environment it adds.</summary>
internal sealed record PoolStart(long Id, EngineStartOptions Options, string Requests, string Replies, IReadOnlyDictionary<string, string> Env) : PoolCommand
{
    public override string Op => "start";
}

/// <summary>Stop engine <paramref name="Id"/>'s worker at once.</summary>
internal sealed record PoolTerminate(long Id) : PoolCommand
{
    public override string Op => "terminate";
}

/// <summary>Ask for every engine's WebAssembly heap size.</summary>
internal sealed record PoolMemory : PoolCommand
{
    public override string Op => "memory";
}
