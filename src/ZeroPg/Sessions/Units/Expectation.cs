using ZeroPg.Protocol;

namespace ZeroPg.Sessions;

/// <summary>What ZeroPg does with the reply to one message of a batch sent to the engine.</summary>
internal enum ExpectKind : byte
{
    /// <summary>The client's message: its reply goes to the client.</summary>
    Forward,
    /// <summary>A message ZeroPg injected (a re-Parse): its reply is dropped, but an extended-query error is passed on.</summary>
    Swallow,
    /// <summary>Not sent to the engine: ZeroPg answers with <see cref="Expectation.Reply"/> when its turn comes.</summary>
    Synthesize,
    /// <summary>An injected failing message standing for an error ZeroPg raises: its error is replaced by <see cref="Expectation.Error"/>.</summary>
    ReplaceError,
    /// <summary>A Describe ZeroPg injected to run a simple Query prepared: its RowDescription goes to the client, its NoData does not.</summary>
    DescribeForQuery,
    /// <summary>
    /// The Bind of an auto-prepared Query outside a transaction block: if its plan no longer fits the
    /// table (0A000, DDL ZeroPg did not see), nothing has run, so the error is dropped and the Query is run plain instead.
    /// </summary>
    BindRetryable,
}

/// <summary>One entry of a batch's reply queue, in the order of the messages sent.</summary>
/// <param name="Code">The frontend message type, which says which reply ends it.</param>
/// <param name="OnCompleted">
/// Called with true on success, false on error (e.g. a Parse's statement is then not prepared); on the
/// session, after the whole reply (<see cref="ReplyPlan.ApplyOutcomes"/>), never on the engine reader thread.
/// </param>
/// <param name="ClientNames">Engine statement names to the client's, replaced in the message of an error the engine answers (SQL EXECUTE / DEALLOCATE / PREPARE).</param>
internal readonly record struct Expectation(ExpectKind Kind, FrontendCode Code, byte[]? Reply = null, PgError? Error = null, Action<bool>? OnCompleted = null,
    IReadOnlyDictionary<string, string>? ClientNames = null)
{
    /// <summary>True when <paramref name="backendCode"/> is the last reply message to this entry's message.</summary>
    public bool IsEndedBy(BackendCode backendCode) => Code switch
    {
        FrontendCode.Parse => backendCode == BackendCode.ParseComplete,
        FrontendCode.Bind => backendCode == BackendCode.BindComplete,
        FrontendCode.Close => backendCode == BackendCode.CloseComplete,
        FrontendCode.Describe => backendCode is BackendCode.RowDescription or BackendCode.NoData,
        FrontendCode.Execute => backendCode is BackendCode.CommandComplete or BackendCode.EmptyQueryResponse or BackendCode.PortalSuspended,
        FrontendCode.Sync or FrontendCode.Query or FrontendCode.FunctionCall => backendCode == BackendCode.ReadyForQuery,
        _ => false,
    };

    /// <summary>Messages the engine answers with nothing at all.</summary>
    public bool HasNoReply => Code == FrontendCode.Flush;

    public bool IsExtended => Code is not (FrontendCode.Query or FrontendCode.FunctionCall or FrontendCode.Sync);
}
