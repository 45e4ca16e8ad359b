namespace ZeroPg.Sessions;

/// <summary>The virtual backend process id and cancel key a client was given in BackendKeyData (at admission, by <see cref="SessionRegistry"/>).</summary>
internal sealed class SessionIdentity
{
    public int ProcessId { get; private set; }
    public int SecretKey { get; private set; }

    public void Assign(int processId, int secretKey)
    {
        ProcessId = processId;
        SecretKey = secretKey;
    }
}
