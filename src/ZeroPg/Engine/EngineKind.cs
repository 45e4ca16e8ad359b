namespace ZeroPg.Engine;

/// <summary>Which Postgres serves the clients.</summary>
public enum EngineKind
{
    /// <summary>PGlite (Postgres 18 in WebAssembly) in a Node engine host: nothing to install, one shared session.</summary>
    Pglite,

    /// <summary>Real PostgreSQL binaries installed on the machine: native speed, one backend process per client.</summary>
    Postgres,
}
