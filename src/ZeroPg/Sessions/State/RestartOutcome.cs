namespace ZeroPg.Sessions;

/// <summary>What an engine restart does to one kind of a client's state (<see cref="ISessionState.Restarted"/>).</summary>
internal enum RestartPolicy : byte
{
    /// <summary>The client holds none of it in the engine session (nothing to put back).</summary>
    NothingHeld,

    /// <summary>It is put back in the new engine session, whole, before the client's statements could miss it.</summary>
    Restored,

    /// <summary>It died with the engine session and cannot be put back: the client is ended with FATAL 57P01.</summary>
    CannotRestore,
}

/// <summary>
/// One session object's answer to an engine restart: its <see cref="Policy"/>, and what it is (<see cref="What"/>: how it is put back,
/// or what was lost, named for the client in the FATAL's detail).
/// </summary>
internal readonly record struct RestartOutcome(RestartPolicy Policy, string What)
{
    public static RestartOutcome NothingHeld { get; } = new(RestartPolicy.NothingHeld, "");

    public static RestartOutcome Restored(string how) => new(RestartPolicy.Restored, how);

    public static RestartOutcome CannotRestore(string what) => new(RestartPolicy.CannotRestore, what);

    public bool IsLost => Policy == RestartPolicy.CannotRestore;
}
