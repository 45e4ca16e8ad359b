using System.Text.Json.Serialization;
using ZeroPg.Engine.Pool;

namespace ZeroPg.Engine;

/// <summary>
/// The JSON the server writes to its engine hosts, in their camelCase, by generated code: nothing is found by reflection at
/// run time, which a JIT start pays for at each type's first use and a native AOT build of the server does not have.
/// Also the two keys made of start options (a spare's, a snapshot's), compared or hashed as this JSON: the snapshot's must
/// stay this exact text, or every cached snapshot's file name changes.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(EngineStartOptions))]
[JsonSerializable(typeof(EngineControl))]
[JsonSerializable(typeof(PoolCommand))]
[JsonSerializable(typeof(WarmEngine.SpareKey))]
[JsonSerializable(typeof(Storage.SnapshotCache.SnapshotKey))]
internal sealed partial class HostJson : JsonSerializerContext;
