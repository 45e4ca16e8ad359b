using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace ZeroPg.Storage.Backup;

/// <summary>lease/NNNNNNNNNN.json: who writes to the location in this generation; renewed while it runs.</summary>
internal sealed record LeaseRecord
{
    [JsonPropertyName("generation")] public long Generation { get; init; }
    [JsonPropertyName("owner")] public string Owner { get; init; } = "";
    [JsonPropertyName("host")] public string Host { get; init; } = "";
    [JsonPropertyName("pid")] public int Pid { get; init; }
    /// <summary>The holder's boot id and start tick (<see cref="HolderProcess"/>): null from older servers and off Linux.</summary>
    [JsonPropertyName("process")] public string? Process { get; init; }
    [JsonPropertyName("startedAt")] public DateTimeOffset StartedAt { get; init; }
    [JsonPropertyName("renewedAt")] public DateTimeOffset RenewedAt { get; init; }
    /// <summary>Counts renewals: a newcomer watches it change, so liveness needs no clock agreement.</summary>
    [JsonPropertyName("renewals")] public long Renewals { get; init; }
    [JsonPropertyName("ttlSeconds")] public double TtlSeconds { get; init; }
    [JsonPropertyName("released")] public bool Released { get; init; }
    /// <summary>Where this generation's WAL ended when it released the lease (a graceful stop).</summary>
    [JsonPropertyName("endLsn")] public string? EndLsn { get; init; }
}

/// <summary>base/.../manifest.json, written after the tar: a base backup exists only with it.</summary>
internal sealed record BaseManifest
{
    [JsonPropertyName("version")] public int Version { get; init; } = 1;
    [JsonPropertyName("systemIdentifier")] public ulong SystemIdentifier { get; init; }
    [JsonPropertyName("timeline")] public uint Timeline { get; init; }
    [JsonPropertyName("startLsn")] public string StartLsn { get; init; } = "";
    /// <summary>WAL must be replayed at least to here (pg_backup_stop's position) for the files to be consistent.</summary>
    [JsonPropertyName("stopLsn")] public string StopLsn { get; init; } = "";
    [JsonPropertyName("startedAt")] public DateTimeOffset StartedAt { get; init; }
    [JsonPropertyName("stoppedAt")] public DateTimeOffset StoppedAt { get; init; }
    [JsonPropertyName("dataBytes")] public long DataBytes { get; init; }
    [JsonPropertyName("tarBytes")] public long TarBytes { get; init; }
    [JsonPropertyName("tarSha256")] public string TarSha256 { get; init; } = "";
    [JsonPropertyName("extensions")] public List<string> Extensions { get; init; } = [];
    [JsonPropertyName("generation")] public long Generation { get; init; }
    [JsonPropertyName("owner")] public string Owner { get; init; } = "";
}

/// <summary>meta/...json: the extensions the database uses, uploaded when the set grows.</summary>
internal sealed record MetaRecord
{
    [JsonPropertyName("extensions")] public List<string> Extensions { get; init; } = [];
}

internal static class BackupJson
{
    public static byte[] Write(LeaseRecord value) => JsonSerializer.SerializeToUtf8Bytes(value, StoredJson.Default.LeaseRecord);

    public static byte[] Write(BaseManifest value) => JsonSerializer.SerializeToUtf8Bytes(value, StoredJson.Default.BaseManifest);

    public static byte[] Write(MetaRecord value) => JsonSerializer.SerializeToUtf8Bytes(value, StoredJson.Default.MetaRecord);

    /// <summary>Null for a missing or unreadable (half-written) object.</summary>
    public static T? TryRead<T>(byte[]? bytes) where T : class
    {
        if (bytes is null)
            return null;
        var typeInfo = (JsonTypeInfo<T>)StoredJson.Default.GetTypeInfo(typeof(T))!;
        try
        {
            return JsonSerializer.Deserialize(bytes, typeInfo);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
