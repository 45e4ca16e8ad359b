namespace ZeroPg.Security;

/// <summary>
/// The engine's roles as ZeroPg last read them, so a connecting client is authenticated without waiting for the
/// shared engine (which another client may hold in a transaction). Read whole from pg_authid when a client needs
/// it and the copy is missing, of an earlier engine, or stale: after a client's CREATE/ALTER/DROP ROLE (the
/// session marks it, <see cref="MarkStale"/>), and when a role is not found (it may have been made by SQL ZeroPg
/// does not see, such as a function's dynamic SQL). Thread-safe: a snapshot replaced whole.
/// </summary>
internal sealed class RoleDirectory
{
    private Snapshot? _snapshot;
    private TaskCompletionSource _read = NewRead();

    /// <summary>The role if the copy is current for engine <paramref name="generation"/>; false when it must be read first.</summary>
    public bool TryGet(string name, int generation, out LoginRole? role)
    {
        role = null;
        var snapshot = Volatile.Read(ref _snapshot);
        if (snapshot is null || snapshot.Generation != generation)
            return false;
        return snapshot.Roles.TryGetValue(name, out role);
    }

    public void Replace(IEnumerable<LoginRole> roles, int generation)
    {
        Volatile.Write(ref _snapshot, new Snapshot(roles.ToDictionary(r => r.Name, StringComparer.Ordinal), generation));
        Volatile.Read(ref _read).TrySetResult();
    }

    /// <summary>
    /// Waits (at most <paramref name="limit"/>) for the copy to be read again after <see cref="MarkStale"/>: the session
    /// that changed a role reads it right after its statement, while its client may already be opening a connection.
    /// </summary>
    public Task WaitReadAsync(TimeSpan limit)
        => Volatile.Read(ref _snapshot) is not null ? Task.CompletedTask : Volatile.Read(ref _read).Task.WaitAsync(limit).ContinueWith(_ => { }, TaskScheduler.Default);

    /// <summary>
    /// Reads the roles straight from the engine at server start, through ZeroPg's own named statement, so nothing of a
    /// client's session is touched; as plain rows, which a cold engine answers sooner than the same rows as JSON (json_agg's
    /// code is not compiled yet at a start; bench/engines/FINDINGS.md).
    /// </summary>
    public async Task LoadAsync(Engine.EngineProcess engine, int generation)
    {
        var rows = await Sessions.OwnSql.QueryRowsAsync(engine, LoginRole.AllSql, TimeSpan.FromSeconds(30));
        Replace(rows.Select(LoginRole.FromRow), generation);
    }

    public void MarkStale()
    {
        if (Volatile.Read(ref _read).Task.IsCompleted)
            Interlocked.Exchange(ref _read, NewRead());
        Volatile.Write(ref _snapshot, null);
    }

    private static TaskCompletionSource NewRead() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed record Snapshot(Dictionary<string, LoginRole> Roles, int Generation);
}
