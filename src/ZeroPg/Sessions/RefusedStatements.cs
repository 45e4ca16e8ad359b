using ZeroPg.Protocol;

namespace ZeroPg.Sessions;

/// <summary>Statements ZeroPg answers with an error itself because PGlite would never answer them (the analysis finds them: <see cref="Sql.SqlAnalysis"/>).</summary>
internal static class RefusedStatements
{
    /// <summary>COPY ... TO PROGRAM / FROM PROGRAM (<see cref="Sql.SqlAnalysis.RunsProgram"/>): WebAssembly cannot start a program.</summary>
    public static PgError Program { get; } = PgError.Error(SqlState.FeatureNotSupported,
        "COPY TO PROGRAM and COPY FROM PROGRAM are not supported by ZeroPg",
        "Run the program on the client instead: COPY ... TO STDOUT / FROM STDIN (psql: \\copy ... to program '...').",
        detail: "PGlite runs inside WebAssembly and cannot start programs.");
}
