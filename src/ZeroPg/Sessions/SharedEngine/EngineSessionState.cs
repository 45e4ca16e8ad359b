namespace ZeroPg.Sessions;

/// <summary>
/// Session-level state of the one engine session that ZeroPg manages on behalf of all its clients: whose
/// settings and temp relations it holds now, and ZeroPg's advisory lock functions in it. Owned by the
/// session that holds the engine (<see cref="EngineScheduler.Owner"/>): written when that session sends a
/// batch, so it always describes the engine session as the batches already sent leave it.
/// </summary>
internal sealed class EngineSessionState
{
    private TaskCompletionSource _advisoryChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The session settings the engine session holds now (name to pg_settings value).</summary>
    public Dictionary<string, string> AppliedSettings { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The engine session's settings are not known: a read-back of them failed (a client's own statement_timeout of 1 ms
    /// cancelled it), so <see cref="AppliedSettings"/> may miss values the engine holds. The next preamble resets them all.
    /// </summary>
    public bool SettingsUnknown { get; set; }

    /// <summary>The session authorization the engine session runs under now, when not its own superuser role.</summary>
    public string? SessionAuthorization { get; set; }

    /// <summary>The engine generation in which ZeroPg's advisory lock functions were installed (temp objects die with the engine).</summary>
    public int AdvisoryInstalledGeneration { get; set; } = -1;

    /// <summary>The engine generation in which the replication capture schema is known to be installed (zeropg_repl).</summary>
    public int CaptureInstalledGeneration { get; set; } = -1;

    /// <summary>The engine session listens on every channel a client listens on (false in a new engine until a batch's preamble LISTENs on them).</summary>
    public bool ListensRestored { get; set; }

    /// <summary>The client whose temp relations carry their own names in the engine now; others' are renamed aside.</summary>
    public TempRelations? TempOwner { get; set; }

    /// <summary>Completes at the next advisory unlock or disconnect of a lock holder (thread-safe).</summary>
    public Task AdvisoryChanged => Volatile.Read(ref _advisoryChanged).Task;

    public void SignalAdvisoryChange()
        => Interlocked.Exchange(ref _advisoryChanged, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>What a client's preamble may change here, as it is before the batch is sent (see <see cref="Restore"/>).</summary>
    public Snapshot Take() => new(new(AppliedSettings, StringComparer.OrdinalIgnoreCase), SettingsUnknown, SessionAuthorization, ListensRestored, TempOwner);

    /// <summary>
    /// The batch's preamble was rolled back in the engine (<see cref="ReplyRouter.PreambleFailure"/>): the engine session is as
    /// it was before the batch; its settings are taken as unknown all the same, so the next preamble resets them all.
    /// </summary>
    public void Restore(Snapshot before)
    {
        AppliedSettings = before.AppliedSettings;
        SettingsUnknown = true;
        SessionAuthorization = before.SessionAuthorization;
        ListensRestored = before.ListensRestored;
        TempOwner = before.TempOwner;
    }

    public sealed record Snapshot(Dictionary<string, string> AppliedSettings, bool SettingsUnknown, string? SessionAuthorization, bool ListensRestored, TempRelations? TempOwner);

    /// <summary>A new engine process starts with a fresh session.</summary>
    public void Reset()
    {
        AppliedSettings = new(StringComparer.OrdinalIgnoreCase);
        SettingsUnknown = false;
        SessionAuthorization = null;
        AdvisoryInstalledGeneration = -1;
        TempOwner = null;
        ListensRestored = false;
    }
}
