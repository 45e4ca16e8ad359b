using System.Text.Json.Serialization;
using ZeroPg.Engine.Pool;

namespace ZeroPg.Engine;

/// <summary>
/// The JSON the server writes to its engine hosts, in their camelCase, by generated code: nothing is found by reflection at
/// run time, which a JIT start pays for at each type's first use and a native AOT build of the server does not have.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(EngineStartOptions))]
[JsonSerializable(typeof(EngineControl))]
[JsonSerializable(typeof(PoolStart))]
[JsonSerializable(typeof(PoolTerminate))]
[JsonSerializable(typeof(PoolMemory))]
[JsonSerializable(typeof(WarmEngine.SpareKey))]
[JsonSerializable(typeof(Storage.SnapshotCache.SnapshotKey))]
internal sealed partial class HostJson : JsonSerializerContext;
