namespace ZeroPg.Engine;

/// <summary>
/// host.mjs's start options (argv[2] of an engine process, or `options` of a shared host's start command), as JSON in
/// <see cref="HostJson"/>'s camelCase: dataDir, database, extensions, loadDataDir, startParams, snapshotOut, durability,
/// pollMicroseconds, doorbell, cancelSocket, memoryLimitMb, rolesSql, cancelSecret (a loopback listener's: only in a shared host's start
/// command, its stdin; a host process of its own gets it in ZEROPG_CANCEL_SECRET, since its options are on its command line). A null is written as null; the host reads null and absent alike.
/// </summary>
internal sealed record EngineStartOptions(
    string DataDir,
    string? Database,
    IReadOnlyList<string> Extensions,
    string? LoadDataDir,
    IReadOnlyList<string>? StartParams,
    string? SnapshotOut,
    string? Durability,
    int PollMicroseconds,
    string? Doorbell,
    string CancelSocket,
    int MemoryLimitMb,
    string? RolesSql = null,
    string? CancelSecret = null);
