using System.Text.Json.Serialization;

namespace ZeroPg.Hosting.Dashboard;

/// <summary>What the dashboard shows at one moment (serialized as JSON for /api/status and each /events message).</summary>
internal sealed record DashboardSnapshot(
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("uptimeSeconds")] double UptimeSeconds,
    [property: JsonPropertyName("statementsPerSecond")] double StatementsPerSecond,
    [property: JsonPropertyName("queued")] int Queued,
    [property: JsonPropertyName("connections")] IReadOnlyList<DashboardConnection> Connections,
    [property: JsonPropertyName("databases")] IReadOnlyList<DashboardDatabase> Databases,
    [property: JsonPropertyName("backup")] DashboardBackup? Backup,
    [property: JsonPropertyName("replicationSlots")] IReadOnlyList<string> ReplicationSlots,
    [property: JsonPropertyName("engines")] IReadOnlyList<DashboardEngine> Engines,
    [property: JsonPropertyName("engineHosts")] IReadOnlyList<DashboardEngineHost> EngineHosts,
    [property: JsonPropertyName("history")] IReadOnlyList<DashboardPoint> History);

/// <summary>
/// One engine and what it is for: "database" (serves <see cref="Database"/>), "spare" (started ahead for the next
/// CREATE DATABASE) or "template copy" (a spare holding a copy of template <see cref="Database"/> for the next CREATE DATABASE ... TEMPLATE);
/// its state (running, idle or spare), the process it runs in (<see cref="SharedHost"/>: the shared engine host, with other
/// engines) and the memory it holds (a process's resident memory, a shared host worker's WebAssembly heap).
/// </summary>
internal sealed record DashboardEngine(
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("database")] string? Database,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("pid")] int Pid,
    [property: JsonPropertyName("sharedHost")] bool SharedHost,
    [property: JsonPropertyName("rssBytes")] long? RssBytes);

/// <summary>A shared engine host process: serving (new engines start there) or retired (over its memory budget: it exits when its last engine ends).</summary>
internal sealed record DashboardEngineHost(
    [property: JsonPropertyName("pid")] int Pid,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("engines")] int Engines,
    [property: JsonPropertyName("residentBytes")] long? ResidentBytes,
    [property: JsonPropertyName("floorBytes")] long? FloorBytes);

/// <summary>One second of the history: how long ago it ended, the statements that ended in it (and per second), the queue length at its end, their mean latency.</summary>
internal sealed record DashboardPoint(
    [property: JsonPropertyName("secondsAgo")] double SecondsAgo,
    [property: JsonPropertyName("statements")] long Statements,
    [property: JsonPropertyName("statementsPerSecond")] double StatementsPerSecond,
    [property: JsonPropertyName("queued")] int Queued,
    [property: JsonPropertyName("latencyMs")] double LatencyMs);

/// <summary>One client: its pid, who and where, and what it is doing (pg_stat_activity's state, or "queued" while it waits for the engine).</summary>
internal sealed record DashboardConnection(
    [property: JsonPropertyName("pid")] int Pid,
    [property: JsonPropertyName("user")] string User,
    [property: JsonPropertyName("database")] string Database,
    [property: JsonPropertyName("application")] string Application,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("waitingFor")] string? WaitingFor,
    [property: JsonPropertyName("stateSeconds")] double StateSeconds,
    [property: JsonPropertyName("transactionSeconds")] double? TransactionSeconds,
    [property: JsonPropertyName("query")] string Query);

/// <summary>One database: its engine (its state: running, idle or evicted; its memory) and the clients it serves.</summary>
internal sealed record DashboardDatabase(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("running")] bool Running,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("clients")] int Clients,
    [property: JsonPropertyName("queued")] int Queued,
    [property: JsonPropertyName("enginePid")] int? EnginePid,
    [property: JsonPropertyName("engineRssBytes")] long? EngineRssBytes);

/// <summary>The continuous backup: its state and how far the shipped WAL is behind.</summary>
internal sealed record DashboardBackup(
    [property: JsonPropertyName("url")] string Url,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("detail")] string? Detail,
    [property: JsonPropertyName("lagSeconds")] double LagSeconds,
    [property: JsonPropertyName("lagBytes")] long LagBytes);
