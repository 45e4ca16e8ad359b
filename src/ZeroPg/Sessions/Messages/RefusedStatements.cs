using System.Buffers;
using ZeroPg.Protocol;
using ZeroPg.Sql;

namespace ZeroPg.Sessions;

/// <summary>
/// Statements ZeroPg answers with an error itself, before they reach the shared engine (the analysis finds them:
/// <see cref="SqlAnalysis"/>): what PGlite would never answer, what would reach another client's session, and what
/// would reach the data directory's own files.
/// </summary>
internal static class RefusedStatements
{
    /// <summary>COPY ... TO PROGRAM / FROM PROGRAM (<see cref="RefusalSigns.RunsProgram"/>): WebAssembly cannot start a program.</summary>
    public static PgError Program { get; } = PgError.Error(SqlState.FeatureNotSupported,
        "COPY TO PROGRAM and COPY FROM PROGRAM are not supported by ZeroPg",
        "Run the program on the client instead: COPY ... TO STDOUT / FROM STDIN (psql: \\copy ... to program '...').",
        detail: "PGlite runs inside WebAssembly and cannot start programs.");

    /// <summary>
    /// A client whose login role is not a superuser names the session authorization
    /// (<see cref="Sql.RefusalSigns.NamesSessionAuthorization"/>): Postgres refuses it the change, and in the shared
    /// engine session, authenticated as its superuser, only ZeroPg can.
    /// </summary>
    public static PgError SessionAuthorization(string role) => PgError.Error(SqlState.InsufficientPrivilege,
        $"permission denied to set session authorization",
        "Only a superuser may change the session authorization; log in as the role instead (SET ROLE works for roles this one is a member of).",
        detail: $"Role \"{role}\" is not a superuser; ZeroPg refuses any SQL that names session_authorization for it.");

    /// <summary>SQL naming ZeroPg's own objects in the engine session (<see cref="Sql.RefusalSigns.NamesZeroPgInternals"/>).</summary>
    public static PgError Internal { get; } = PgError.Error("42501",
        "permission denied: the statement names an object of ZeroPg's own",
        "Objects named zeropg_internal_* and the pg_temp advisory lock functions keep every client's session state; use pg_advisory_lock() and friends, and pg_locks, instead.",
        detail: "ZeroPg refuses SQL that could read or change other clients' session state in the shared engine.");

    /// <summary>
    /// An Execute of a COPY FROM STDIN portal that is not right after its Bind (a Describe between them, a portal bound in an
    /// earlier unit): ZeroPg can start the COPY only from a Bind and Execute held together, and PGlite exits on a COPY FROM
    /// STDIN whose data is not in the call that starts it.
    /// </summary>
    public static PgError CopyPortalNotAfterBind { get; } = PgError.Error(SqlState.FeatureNotSupported,
        "COPY FROM STDIN through the extended protocol must be sent as Bind immediately followed by Execute in ZeroPg",
        "Send Parse, Bind, Execute, then the COPY data (no Describe of the portal or Flush between Bind and Execute), or send the COPY as a simple Query.");

    /// <summary>A COPY or server-file function naming a device (<see cref="Sql.RefusalSigns.UsesDeviceFile"/>): /dev/random blocks PGlite forever.</summary>
    public static PgError DeviceFile { get; } = PgError.Error(SqlState.FeatureNotSupported,
        "ZeroPg does not let SQL read or write device files",
        "Send the data from the client instead: COPY ... FROM STDIN / TO STDOUT (psql: \\copy).",
        detail: "PGlite's devices are WebAssembly emulations (reading /dev/random there never returns), not the host's.");

    /// <summary>A name of another client's temp relation as ZeroPg keeps it aside (<see cref="RefusalSigns.AsideNamePids"/>): Postgres's own refusal.</summary>
    public static PgError OtherSessionsTemp { get; } = PgError.Error(SqlState.FeatureNotSupported,
        "cannot access temporary tables of other sessions",
        "Temporary relations belong to the connection that created them; use a regular table to share data between connections.");

    /// <summary>Server-side file access (<see cref="RefusalSigns.ReachesServerFiles"/>): the engine's file system is the data directory.</summary>
    public static PgError ServerFiles { get; } = PgError.Error(SqlState.InsufficientPrivilege,
        "permission denied: ZeroPg does not give SQL access to the server's files",
        "COPY ... TO STDOUT / FROM STDIN works for anyone (psql: \\copy); large objects can be imported and exported by the client (psql: \\lo_import, \\lo_export).",
        detail: "COPY to or from a file, pg_read_file, pg_read_binary_file, pg_stat_file, pg_ls_dir and the other pg_ls_*dir functions, "
            + "server-side lo_import / lo_export and ALTER SYSTEM are refused: the engine's file system is the data directory itself.");

    /// <summary>
    /// The built-in functions of <see cref="ServerFiles"/> by object id (fixed in pg_proc.dat), for the fast-path FunctionCall
    /// message, which names a function by oid: lo_import, lo_export, pg_read_file, pg_read_binary_file, pg_stat_file, pg_ls_dir and
    /// the pg_ls_*dir functions. Client-side large-object import and export (libpq's lo_import, psql's \lo_import) use other functions.
    /// </summary>
    private static readonly HashSet<uint> ServerFileFunctionOids =
        [764, 765, 767, 2623, 2624, 2625, 3293, 3295, 3297, 3307, 3353, 3354, 3826, 3827, 3828, 5029, 5030, 5031, 6270, 6271, 6272];

    /// <summary>A FunctionCall message (whole) calls one of the server-file functions.</summary>
    public static bool CallsServerFileFunction(ReadOnlySequence<byte> message)
        => Protocol.Frontend.FunctionCallMessage.TryReadFunctionOid(message, out var oid) && ServerFileFunctionOids.Contains(oid);

    /// <summary>Why ZeroPg refuses <paramref name="sql"/> from the client <paramref name="identity"/>, or null when it may run.</summary>
    public static PgError? Find(SqlAnalysis sql, SessionIdentity identity, SessionRegistry registry)
    {
        if (sql.Refusals.RunsProgram)
            return Program;
        if (sql.Refusals.NamesZeroPgInternals)
            return Internal;
        if (!identity.IsSuperuser && sql.Refusals.NamesSessionAuthorization)
            return SessionAuthorization(identity.Role);
        foreach (var pid in sql.Refusals.AsideNamePids)
        {
            if (pid != identity.ProcessId && registry.IsConnected(pid))
                return OtherSessionsTemp;
        }
        if (sql.Refusals.UsesDeviceFile)
            return DeviceFile;
        return sql.Refusals.ReachesServerFiles ? ServerFiles : null;
    }
}
