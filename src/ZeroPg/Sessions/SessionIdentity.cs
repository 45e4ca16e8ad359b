namespace ZeroPg.Sessions;

/// <summary>
/// Who a client is: the virtual backend process id and cancel key it was given in BackendKeyData (at admission,
/// by <see cref="SessionRegistry"/>), and the login role it authenticated as (<see cref="ClientAuthentication"/>).
/// </summary>
internal sealed class SessionIdentity
{
    /// <summary>The role the engine session is authenticated as (PGlite's bootstrap superuser).</summary>
    public const string EngineRole = "postgres";

    public int ProcessId { get; private set; }
    public int SecretKey { get; private set; }

    /// <summary>The login role; the engine's own until authentication is done.</summary>
    public string Role { get; private set; } = EngineRole;

    public bool IsSuperuser { get; private set; } = true;

    public void Assign(int processId, int secretKey)
    {
        ProcessId = processId;
        SecretKey = secretKey;
    }

    public void Authenticated(string role, bool isSuperuser)
    {
        Role = role;
        IsSuperuser = isSuperuser;
    }
}
