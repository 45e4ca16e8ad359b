using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;
using ZeroPg.Replication.Walsender;
using ZeroPg.Sql;

namespace ZeroPg.Sessions;

/// <summary>
/// Answers SET / RESET / SHOW client_encoding sent as a whole query (<see cref="ClientEncodingStatement"/>): the engine
/// stays in UTF8 and ZeroPg converts for the client (<see cref="ClientEncoding"/>, <see cref="ClientOutput"/>). As in
/// Postgres, RESET and DEFAULT return to the startup packet's encoding, an unknown name is 22023, an aborted
/// transaction refuses all three (25P02). Unlike Postgres, a SET inside a transaction block is not undone by ROLLBACK.
/// Thread: the session.
/// </summary>
internal sealed class ClientEncodingAnswers(ClientOutput output, ProtocolState state, SessionSettings settings) : ISessionState
{
    public async Task AnswerAsync(ClientEncodingStatement command)
    {
        try
        {
            if (state.Status == TransactionStatus.Failed)
                throw new PgErrorException(PgError.Error(SqlState.InFailedSqlTransaction,
                    "current transaction is aborted, commands ignored until end of transaction block"));
            if (command.Kind == ClientEncodingCommandKind.Show)
            {
                WalsenderReplies.RowDescription(output, ("client_encoding", WalsenderReplies.TextOid));
                WalsenderReplies.DataRow(output, output.Encoding.Current.Name);
                CommandComplete.Write(output, "SHOW");
            }
            else
            {
                var target = command.Kind == ClientEncodingCommandKind.Reset || command.Value is null
                    ? output.Encoding.Startup
                    : Resolve(command.Value);
                var changed = target != output.Encoding.Current;
                if (changed)
                {
                    await output.FlushAsync(); // what was written before is in the old encoding
                    output.SwitchTo(target);
                }
                CommandComplete.Write(output, command.Kind == ClientEncodingCommandKind.Reset ? "RESET" : "SET");
                if (changed)
                    ParameterStatus.Write(output, "client_encoding", settings.Reported("client_encoding", target.Name));
            }
        }
        catch (PgErrorException error) when (!error.Error.IsFatal)
        {
            ErrorResponse.Write(output, error.Error);
        }
        ReadyForQuery.Write(output, state.Status);
        await output.FlushAsync();
    }

    /// <summary>The client's DISCARD ALL ran (its reply is out): its client_encoding returns to the startup packet's, as Postgres's RESET ALL does.</summary>
    public async Task ResetAfterDiscardAsync()
    {
        var startup = output.Encoding.Startup;
        if (startup == output.Encoding.Current)
            return;
        await output.FlushAsync();
        output.SwitchTo(startup);
        ParameterStatus.Write(output, "client_encoding", settings.Reported("client_encoding", startup.Name));
        await output.FlushAsync();
    }

    /// <summary>The encoding a client names, or Postgres's error for a name it does not know or ZeroPg cannot convert.</summary>
    public static PgEncoding Resolve(string name, bool fatal = false)
    {
        if (PgEncoding.Find(name) is { } encoding)
            return encoding;
        var message = $"invalid value for parameter \"client_encoding\": \"{name}\"";
        PgError error = PgEncoding.IsKnownButUnconvertible(name)
            ? new(fatal ? "FATAL" : "ERROR", SqlState.FeatureNotSupported, message, $"Conversion between {name} and UTF8 is not supported.",
                "ZeroPg converts client encodings itself and has no table for this one; connect with UTF8 or another encoding.")
            : new(fatal ? "FATAL" : "ERROR", SqlState.InvalidParameterValue, message, null, null);
        throw new PgErrorException(error);
    }

    /// <summary>The client encoding is ZeroPg's (the engine speaks UTF8): a restart does not touch it.</summary>
    RestartOutcome ISessionState.Restarted() => RestartOutcome.NothingHeld;

    /// <summary>DISCARD ALL answered for this client: back to its startup encoding, as Postgres's RESET ALL does.</summary>
    async ValueTask ISessionState.AfterUnitAsync(UnitOutcome unit, ReadBack readBack)
    {
        if (unit.Effects.DiscardAllAnswered)
            await ResetAfterDiscardAsync();
    }
}
