namespace ZeroPg.Protocol;

/// <summary>Type bytes of the messages a client sends (after the startup packet).</summary>
internal enum FrontendCode : byte
{
    Bind = (byte)'B',
    Close = (byte)'C',
    CopyData = (byte)'d',
    CopyDone = (byte)'c',
    CopyFail = (byte)'f',
    Describe = (byte)'D',
    Execute = (byte)'E',
    Flush = (byte)'H',
    FunctionCall = (byte)'F',
    Parse = (byte)'P',
    PasswordMessage = (byte)'p',
    Query = (byte)'Q',
    Sync = (byte)'S',
    Terminate = (byte)'X',
}

internal static class FrontendCodeExtensions
{
    public static bool IsKnown(this FrontendCode code) => code is FrontendCode.Bind or FrontendCode.Close or FrontendCode.CopyData
        or FrontendCode.CopyDone or FrontendCode.CopyFail or FrontendCode.Describe or FrontendCode.Execute or FrontendCode.Flush
        or FrontendCode.FunctionCall or FrontendCode.Parse or FrontendCode.PasswordMessage or FrontendCode.Query
        or FrontendCode.Sync or FrontendCode.Terminate;

    /// <summary>
    /// Messages Postgres caps at 10,000 bytes (PQ_SMALL_MESSAGE_LIMIT), checked from the header before a body is
    /// buffered; the others (Query, Parse, Bind, FunctionCall, COPY data) may be as large as the server allows.
    /// </summary>
    public static bool IsSmall(this FrontendCode code) => code is FrontendCode.Close or FrontendCode.Describe
        or FrontendCode.Execute or FrontendCode.Flush or FrontendCode.Sync or FrontendCode.Terminate;

    /// <summary>Messages Postgres reads during COPY FROM STDIN (CopyGetData); Terminate ends the connection as anywhere.</summary>
    public static bool IsReadDuringCopyIn(this FrontendCode code) => code is FrontendCode.CopyData or FrontendCode.CopyDone
        or FrontendCode.CopyFail or FrontendCode.Flush or FrontendCode.Sync or FrontendCode.Terminate;

    /// <summary>Messages that carry no body: a body is a protocol violation.</summary>
    public static bool IsBodiless(this FrontendCode code) => code is FrontendCode.Flush or FrontendCode.Sync or FrontendCode.Terminate;

    /// <summary>Messages each answered by one ReadyForQuery: they end a unit of work.</summary>
    public static bool AsksForReady(this FrontendCode code) => code is FrontendCode.Sync or FrontendCode.Query or FrontendCode.FunctionCall;

    /// <summary>The extended-query messages that open (or continue) a sequence only Sync ends.</summary>
    public static bool IsExtendedQuery(this FrontendCode code) => code is FrontendCode.Parse or FrontendCode.Bind
        or FrontendCode.Describe or FrontendCode.Execute or FrontendCode.Close;
}
