using ZeroPg.Engine;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;
using ZeroPg.Sql;

namespace ZeroPg.Sessions;

/// <summary>
/// CREATE / DROP / ALTER DATABASE, which ZeroPg runs itself through the database catalog (each database is an engine of its
/// own): alone in a simple Query, or in the one extended shape Npgsql sends (Parse, Bind, optional Describe, Execute, Sync),
/// outside a transaction block. Any other shape goes to the engine, which refuses it as Postgres does (25001). Thread: the session.
/// </summary>
internal sealed class DatabaseCommands(SessionComposition parts, UnitRunner units)
{
    private readonly ClientBatch _batch = parts.Batch;

    /// <summary>Runs the first extended-protocol database command among the complete units accepted (the units before it first); false when there is none to run now.</summary>
    public async Task<bool> TryRunExtendedAsync()
    {
        var messages = _batch.Messages;
        var unitStart = 0;
        for (var i = 0; i < _batch.CompleteCount; i++)
        {
            var message = messages[i];
            if (message.Code is FrontendCode.Sync or FrontendCode.Query)
            {
                unitStart = i + 1;
                continue;
            }
            if (message is not { Code: FrontendCode.Parse, StatementName.Length: 0, Sql.DatabaseCommand: { SyntaxError: null, Alone: true } command })
                continue;
            var end = i + 1;
            while (end < _batch.CompleteCount && messages[end].Code != FrontendCode.Sync)
                end++;
            if (end == _batch.CompleteCount || !IsDatabaseUnit(i, end))
                return false; // a unit ended by Flush, not Sync (found by the fuzzer): the engine answers it as it would
            if (unitStart > 0)
            {
                await units.RunPipelineAsync(unitStart); // in slices as any pipeline
                return true;
            }
            if (parts.State.Status != TransactionStatus.Idle || parts.State.SequenceOpenInEngine || parts.Lease.IsHeld)
                return false;
            await RunAsync(command, extended: end - i == 4);
            _batch.Consume(end + 1);
            return true;
        }
        return false;
    }

    /// <summary>Runs the command through the database catalog and answers it (with the extended protocol's replies when it came that way).</summary>
    public async Task RunAsync(DatabaseStatement command, bool? extended)
    {
        var output = parts.Output;
        if (extended is { } describes)
        {
            EmptyMessage.Write(output, BackendCode.ParseComplete);
            EmptyMessage.Write(output, BackendCode.BindComplete);
            if (describes)
                EmptyMessage.Write(output, BackendCode.NoData);
        }
        try
        {
            if (await parts.Services.Databases.RunAsync(command, parts.Services, parts.ConnectionClosed) is { } notice)
                ErrorResponse.Write(output, notice);
            CommandComplete.Write(output, command.CommandTag);
        }
        catch (PgErrorException error) when (!error.Error.IsFatal)
        {
            ErrorResponse.Write(output, error.Error);
        }
        catch (EngineFailedException error)
        {
            ErrorResponse.Write(output, PgError.Error(SqlState.InternalError, $"{command.CommandTag} failed: {error.Message}"));
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            // The server's own files (a seed, a database's folder), not the client's connection: the session loop would take an
            // IOException for a client gone away and close the connection without a word, as it once did on a seed's lost temp file.
            ErrorResponse.Write(output, PgError.Error(SqlState.IoError, $"{command.CommandTag} failed: {error.Message}",
                "ZeroPg could not read or write a file of the new database; the server's log may say more."));
        }
        ReadyForQuery.Write(output, parts.State.Status);
        await output.FlushAsync();
    }

    /// <summary>Parse (unnamed), Bind of it to the unnamed portal, an optional Describe, Execute, Sync.</summary>
    private bool IsDatabaseUnit(int parse, int sync)
    {
        var messages = _batch.Messages;
        var length = sync - parse + 1;
        if (length is not (4 or 5) || messages[parse + 1] is not { Code: FrontendCode.Bind, StatementName.Length: 0, BindsNoParameters: true })
            return false;
        return (length == 4 || messages[parse + 2] is { Code: FrontendCode.Describe, Target: Protocol.Frontend.TargetedMessage.Portal }) && messages[sync - 1].Code == FrontendCode.Execute;
    }
}
