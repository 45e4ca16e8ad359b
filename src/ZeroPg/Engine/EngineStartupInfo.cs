using System.Text.Json;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;

namespace ZeroPg.Engine;

/// <summary>What the engine host reported when it became ready.</summary>
internal sealed class EngineStartupInfo
{
    public required int ProcessId { get; init; }
    public required int StartMilliseconds { get; init; }
    /// <summary>ParameterStatus values the engine reported to its synthetic StartupMessage.</summary>
    public required IReadOnlyDictionary<string, string> Parameters { get; init; }
    /// <summary>The host wrote the snapshot it was asked for.</summary>
    public bool SnapshotWritten { get; init; }

    /// <summary>The host cancels inside the engine (engine-host/cancel.mjs): a cancel socket is listening.</summary>
    public bool CancelsInEngine { get; init; }

    /// <summary>The loopback port of the host's cancel listener, when it listens on one (<see cref="Platform.LoopbackCancelEndpoint"/>).</summary>
    public int? CancelPort { get; init; }

    /// <summary>statement_timeout and lock_timeout fire inside the engine (the host found Postgres's timeout table).</summary>
    public bool TimeoutsInEngine { get; init; }

    /// <summary>The engine's WebAssembly heap when it was ready (bytes; 0 from a host that does not say).</summary>
    public long HeapBytes { get; init; }

    /// <summary>
    /// What the start took from the engine's last clean shutdown of this data directory instead of redoing it
    /// (engine-host/start-record.mjs): Postgres's relation cache init files, and the conversions' catalog fix.
    /// </summary>
    public bool ReusedInitFiles { get; init; }

    public bool ReusedConversionsFix { get; init; }

    /// <summary>
    /// The rows of the roles query (<see cref="EngineLaunchOptions.RolesSql"/>) as the engine's last clean shutdown left them,
    /// when this start may reuse them (nothing can have changed them since); null: read them from the engine.
    /// </summary>
    public IReadOnlyList<string?[]>? Roles { get; init; }

    /// <summary>For the log: "relation cache init files, conversions' fix, roles", or "nothing".</summary>
    public string ReusedSummary
    {
        get
        {
            var reused = new List<string>(3);
            if (ReusedInitFiles)
                reused.Add("relation cache init files");
            if (ReusedConversionsFix)
                reused.Add("conversions' fix");
            if (Roles is not null)
                reused.Add("roles");
            return reused.Count == 0 ? "nothing" : string.Join(", ", reused);
        }
    }

    public string ServerVersion => Parameters.TryGetValue("server_version", out var v) ? v : "18";

    public static EngineStartupInfo Parse(ReadOnlySpan<byte> json)
    {
        using var document = JsonDocument.Parse(json.ToArray());
        var root = document.RootElement;
        var startup = Convert.FromBase64String(root.GetProperty("startup").GetString() ?? "");
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var message in new MessageReader(startup))
        {
            if (message.Backend == BackendCode.ParameterStatus)
            {
                var (name, value) = ParameterStatus.Read(message.Body);
                parameters[name] = value;
            }
        }
        return new EngineStartupInfo
        {
            ProcessId = root.GetProperty("pid").GetInt32(),
            StartMilliseconds = root.GetProperty("startMs").GetInt32(),
            Parameters = parameters,
            SnapshotWritten = root.TryGetProperty("snapshotWritten", out var written) && written.ValueKind == JsonValueKind.True,
            CancelsInEngine = root.TryGetProperty("cancel", out var cancel) && cancel.ValueKind == JsonValueKind.True,
            CancelPort = root.TryGetProperty("cancelPort", out var cancelPort) && cancelPort.ValueKind == JsonValueKind.Number ? cancelPort.GetInt32() : null,
            TimeoutsInEngine = root.TryGetProperty("timeouts", out var timeouts) && timeouts.ValueKind == JsonValueKind.True,
            HeapBytes = root.TryGetProperty("heap", out var heap) && heap.ValueKind == JsonValueKind.Number ? heap.GetInt64() : 0,
            ReusedInitFiles = Reused(root, "initFiles"),
            ReusedConversionsFix = Reused(root, "conversionsOff"),
            Roles = root.TryGetProperty("roles", out var roles) && roles.ValueKind == JsonValueKind.Array ? RoleRows(roles) : null,
        };
    }

    private static List<string?[]> RoleRows(JsonElement rows)
        => [.. rows.EnumerateArray().Select(row => row.EnumerateArray().Select(value => value.ValueKind == JsonValueKind.String ? value.GetString() : null).ToArray())];

    private static bool Reused(JsonElement root, string what) =>
        root.TryGetProperty("reused", out var reused) && reused.ValueKind == JsonValueKind.Object
        && reused.TryGetProperty(what, out var value) && value.ValueKind == JsonValueKind.True;
}
