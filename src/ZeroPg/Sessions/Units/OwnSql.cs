using System.Text;
using ZeroPg.Engine;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;
using ZeroPg.Protocol.Frontend;

namespace ZeroPg.Sessions;

/// <summary>
/// ZeroPg's own SQL in the engine, whoever runs it: housekeeping (cleanup, re-LISTEN, advisory unlocks),
/// captured reads (the settings snapshot, temp relations, the advisory lock functions' install), the
/// server's CHECKPOINT and the backup's queries (pg_backup_start, pg_backup_stop, verify's table read).
/// A batch of statements is one Query each, so one failing does not skip the rest; a row the server
/// reads outside any session (<see cref="QueryRowAsync"/>) goes through a named statement of its own
/// instead. Sessions run it through <see cref="EngineLink.RunOwnSqlAsync"/>.
/// </summary>
internal static class OwnSql
{
    private static long s_rowQueries;

    /// <summary>A batch of one Query per statement.</summary>
    public static BatchBuffer Batch(IEnumerable<string> statements) => Append(new BatchBuffer(), statements);

    /// <summary>Adds one Query per statement to <paramref name="batch"/>.</summary>
    public static BatchBuffer Append(BatchBuffer batch, params IEnumerable<string> statements)
    {
        foreach (var sql in statements)
            QueryMessage.Write(batch, sql);
        return batch;
    }

    /// <summary>Runs statements with nobody reading the reply (the server's own calls, such as CHECKPOINT at shutdown).</summary>
    public static async Task RunAsync(EngineProcess engine, TimeSpan timeout, params IEnumerable<string> statements)
    {
        var call = new DiscardCall();
        await engine.SubmitAsync(call, Batch(statements).Frame());
        await call.Completion.WaitAsync(timeout);
    }

    /// <summary>Runs one statement as a simple Query and throws <see cref="OwnSqlException"/> when the engine answers with an error (an engine no client uses, e.g. a database's preparation).</summary>
    public static async Task RunCheckedAsync(EngineProcess engine, string sql, TimeSpan timeout)
    {
        var call = new CollectingCall();
        await engine.SubmitAsync(call, Batch([sql]).Frame());
        await call.Completion.WaitAsync(timeout);
        if (RowsOrError(call.Reply.WrittenSpan).Error is { } error)
            throw error;
    }

    /// <summary>The first two text columns of each DataRow among captured reply messages (NULL as "").</summary>
    public static IEnumerable<(string First, string Second)> TextPairs(IEnumerable<byte[]> captured)
    {
        foreach (var row in captured.TextRows())
            yield return (row[0] ?? "", row[1] ?? "");
    }

    /// <summary>
    /// The text values of the first row of one statement the server runs outside any session (the
    /// backup's), without disturbing the clients' state in the shared engine session: it may land inside
    /// a client's open transaction, which it does not change, and it goes through a statement and portal
    /// of its own name, both closed again, because a simple Query would drop a client's unnamed statement.
    /// A statement that fails (e.g. 25P02 in a client's failed transaction) throws <see cref="OwnSqlException"/>.
    /// </summary>
    public static async Task<string?[]> QueryRowAsync(EngineProcess engine, string sql, TimeSpan timeout)
        => (await ExecuteNamedAsync(engine, sql, timeout)).FirstOrDefault() ?? throw new OwnSqlException("", $"{sql} returned no row");

    /// <summary>Every row of a statement, run as <see cref="QueryRowAsync"/> runs its statement.</summary>
    public static Task<List<string?[]>> QueryRowsAsync(EngineProcess engine, string sql, TimeSpan timeout)
        => ExecuteNamedAsync(engine, sql, timeout);

    /// <summary>A statement that returns no row (a DO block), run as <see cref="QueryRowAsync"/> runs its statement.</summary>
    public static async Task ExecuteAsync(EngineProcess engine, string sql, TimeSpan timeout)
        => await ExecuteNamedAsync(engine, sql, timeout);

    private static async Task<List<string?[]>> ExecuteNamedAsync(EngineProcess engine, string sql, TimeSpan timeout)
    {
        var name = Encoding.ASCII.GetBytes($"zeropg_own_{Interlocked.Increment(ref s_rowQueries)}");
        var batch = new BatchBuffer();
        ParseMessage.Write(batch, name, Encoding.UTF8.GetBytes(sql), [0, 0]);
        BindMessage.WriteText(batch, name, name, []);
        ExecuteMessage.Write(batch, name, 0);
        TargetedMessage.Write(batch, FrontendCode.Close, TargetedMessage.Portal, name);
        TargetedMessage.Write(batch, FrontendCode.Close, TargetedMessage.Statement, name);
        EmptyFrontendMessage.Write(batch, FrontendCode.Sync);
        var call = new CollectingCall();
        await engine.SubmitAsync(call, batch.Frame(HostRequestKind.OwnBatch));
        await call.Completion.WaitAsync(timeout);
        var (rows, error) = RowsOrError(call.Reply.WrittenSpan);
        if (error is not null)
        {
            // The Close messages were skipped with the rest of the batch: close the statement now.
            var cleanup = new BatchBuffer();
            TargetedMessage.Write(cleanup, FrontendCode.Close, TargetedMessage.Statement, name);
            EmptyFrontendMessage.Write(cleanup, FrontendCode.Sync);
            var discard = new DiscardCall();
            await engine.SubmitAsync(discard, cleanup.Frame(HostRequestKind.OwnBatch));
            await discard.Completion.WaitAsync(timeout);
            throw error;
        }
        return rows;
    }

    private static (List<string?[]> Rows, OwnSqlException? Error) RowsOrError(ReadOnlySpan<byte> reply)
    {
        var rows = new List<string?[]>();
        foreach (var message in new MessageReader(reply))
        {
            if (message.Backend == BackendCode.ErrorResponse)
                return (rows, new OwnSqlException(ErrorResponse.ReadSqlState(message.Body) ?? "", ErrorResponse.ReadField(message.Body, ErrorField.Message) ?? "error"));
            if (message.Backend == BackendCode.DataRow)
                rows.Add(DataRow.ReadText(message.Body));
        }
        return (rows, null);
    }
}
