using System.Text;
using ZeroPg.Engine;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;
using ZeroPg.Protocol.Frontend;

namespace ZeroPg.Storage.Backup;

/// <summary>
/// Runs one housekeeping statement (pg_backup_start, pg_backup_stop) in the shared engine session
/// without disturbing the clients' state there: it goes through a statement and portal of its own
/// name (a simple Query would drop a client's unnamed statement), both closed again, and only reads
/// the engine; it may land inside a client's open transaction, which it does not change. A statement
/// that fails (e.g. 25P02 in a client's failed transaction) throws <see cref="EngineSqlException"/>.
/// </summary>
internal static class EngineSql
{
    private static long s_counter;

    /// <summary>The text values of the first row, or an exception.</summary>
    public static async Task<string?[]> QueryRowAsync(EngineProcess engine, string sql, TimeSpan timeout)
    {
        var name = Encoding.ASCII.GetBytes($"zeropg_backup_{Interlocked.Increment(ref s_counter)}");
        var batch = new Sessions.BatchBuffer();
        ParseMessage.Write(batch, name, Encoding.UTF8.GetBytes(sql), [0, 0]);
        BindMessage.WriteText(batch, name, name, []);
        ExecuteMessage.Write(batch, name, 0);
        TargetedMessage.Write(batch, FrontendCode.Close, TargetedMessage.Portal, name);
        TargetedMessage.Write(batch, FrontendCode.Close, TargetedMessage.Statement, name);
        EmptyFrontendMessage.Write(batch, FrontendCode.Sync);
        var call = new CollectingCall();
        await engine.SubmitAsync(call, batch.Frame(HostRequestKind.Batch));
        await call.Completion.WaitAsync(timeout);
        var (row, error) = FirstRowOrError(call.Reply.WrittenSpan);
        if (error is not null)
        {
            // The Close messages were skipped with the rest of the batch: close the statement now.
            var cleanup = new Sessions.BatchBuffer();
            TargetedMessage.Write(cleanup, FrontendCode.Close, TargetedMessage.Statement, name);
            EmptyFrontendMessage.Write(cleanup, FrontendCode.Sync);
            var discard = new DiscardCall();
            await engine.SubmitAsync(discard, cleanup.Frame(HostRequestKind.Batch));
            await discard.Completion.WaitAsync(timeout);
            throw error;
        }
        return row ?? throw new EngineSqlException("", $"{sql} returned no row");
    }

    private static (string?[]? Row, EngineSqlException? Error) FirstRowOrError(ReadOnlySpan<byte> reply)
    {
        string?[]? row = null;
        foreach (var message in new MessageReader(reply))
        {
            if (message.Backend == BackendCode.ErrorResponse)
                return (row, new EngineSqlException(ErrorResponse.ReadSqlState(message.Body) ?? "", ErrorResponse.ReadField(message.Body, ErrorField.Message) ?? "error"));
            if (message.Backend == BackendCode.DataRow && row is null)
                row = DataRow.ReadText(message.Body);
        }
        return (row, null);
    }
}

internal sealed class EngineSqlException(string sqlState, string message) : Exception(sqlState.Length > 0 ? $"{message} ({sqlState})" : message)
{
    public string SqlState { get; } = sqlState;
}
