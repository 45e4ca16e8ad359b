namespace ZeroPg.Security;

/// <summary>How clients prove who they are (pg_hba.conf's method column, one for all connections).</summary>
public enum AuthenticationMethod
{
    /// <summary>Trust on loopback without a password; SCRAM once a password is set. A non-loopback address without a password refuses to start.</summary>
    Default,

    /// <summary>Anyone who can reach the port gets in as any existing login role.</summary>
    Trust,

    /// <summary>SCRAM-SHA-256 (with channel binding on TLS) against the secret the engine stores in pg_authid.</summary>
    ScramSha256,
}
