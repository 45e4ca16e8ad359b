namespace ZeroPg.Sessions;

/// <summary>
/// What the session objects add at the head of a client's batch (<see cref="ISessionState.WritePreamble"/>): statements that
/// bring the engine session to the client's state, run as the engine's superuser (another client's role may not reset a
/// superuser's setting or rename a relation it does not own), and the role the client's own statements then run as.
/// What they change in <see cref="EngineSessionState"/> is recorded only once the batch is sent (<see cref="EngineBatch.Sending"/>).
/// </summary>
internal sealed class Preamble(EngineSessionState engine)
{
    private List<string>? _statements; // made at the first statement: a client whose state the engine session has adds none
    private Action? _sent;

    /// <summary>The shared engine session's state, as the batches sent so far left it.</summary>
    public EngineSessionState Engine => engine;

    /// <summary>The role the client's statements run as (SET SESSION AUTHORIZATION); null for the engine's own.</summary>
    public string? Identity { get; set; }

    public IReadOnlyList<string> Statements => (IReadOnlyList<string>?)_statements ?? [];

    /// <summary>Adds statements run as the engine's role and what to record once they are sent.</summary>
    public void Add(IEnumerable<string> statements, Action sent)
    {
        (_statements ??= []).AddRange(statements);
        _sent += sent;
    }

    /// <summary>The batch went to the engine: its statements' changes are the engine session's now.</summary>
    public void Sent() => _sent?.Invoke();
}
