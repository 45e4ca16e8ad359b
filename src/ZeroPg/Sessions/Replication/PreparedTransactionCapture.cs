using Microsoft.Extensions.Logging;
using ZeroPg.Protocol;
using ZeroPg.Replication.Walsender;

namespace ZeroPg.Sessions;

/// <summary>
/// A client session's part in decoding prepared transactions: a prepared transaction's captured rows are invisible from its
/// PREPARE to its COMMIT PREPARED, so the session writes what the decoders need at those points, in the same hold of the engine
/// (nothing of another client's runs in between): markers where a prepared transaction ends (Replication/Capture/PreparedCommits)
/// and, for two-phase slots, its rows as they were at PREPARE (Replication/Capture/TwoPhasePrepares). Thread: the session's.
/// </summary>
internal sealed partial class PreparedTransactionCapture(EngineLink link, SessionServices services, Func<int> processId)
{
    /// <summary>A transaction's xid and its captured rows (jsonb text), read inside it right before its PREPARE.</summary>
    public sealed record Rows(string Xid, string Captured);

    /// <summary>
    /// Right before a unit with COMMIT PREPARED or ROLLBACK PREPARED, while the client has no transaction open (those refuse to run
    /// inside one, and the marker must not join it): a marker per prepared transaction that stands where it ends. Its error is the
    /// client's: committing without the marker would keep the transaction's changes from every replication consumer.
    /// </summary>
    public async Task MarkEndsAsync()
    {
        var batch = EngineStateRestore.AppendEngineRole(new BatchBuffer(), services.EngineState);
        EngineResults.Split(await link.RunOwnSqlAsync(ReplyMode.Capture, OwnSql.Append(batch, Replication.Capture.PreparedCommits.MarkSql)));
    }

    /// <summary>
    /// Right before a unit that starts with PREPARE TRANSACTION, inside the client's transaction: its captured rows, when a two-phase
    /// slot will decode it at PREPARE; null otherwise. Run as the client (the function is ZeroPg's, SECURITY DEFINER, and reads only
    /// the caller's own transaction): switching roles inside the client's transaction would undo its SET ROLE.
    /// </summary>
    public async Task<Rows?> ReadAsync()
    {
        var installed = EngineResults.Split(await link.RunOwnSqlAsync(ReplyMode.Capture, OwnSql.Batch([Replication.Capture.TwoPhasePrepares.InstalledSql])));
        if (installed is not [[["t"]]])
            return null;
        var rows = EngineResults.Split(await link.RunOwnSqlAsync(ReplyMode.Capture, OwnSql.Batch([Replication.Capture.TwoPhasePrepares.ReadSql])));
        return rows is [[[{ } xid, { } captured]]] ? new Rows(xid, captured) : null;
    }

    /// <summary>Right after the unit, the engine still held and the client's transaction prepared: the copies of its rows and the
    /// marker where it was prepared. A failure only means the transaction goes out whole at its COMMIT PREPARED instead (no marker),
    /// so it is logged, not the client's (whose PREPARE succeeded).</summary>
    public async Task RecordAsync(Rows rows)
    {
        try
        {
            var batch = EngineStateRestore.AppendEngineRole(new BatchBuffer(), services.EngineState);
            EngineResults.Split(await link.RunOwnSqlAsync(ReplyMode.Capture, OwnSql.Append(batch, Replication.Capture.TwoPhasePrepares.RecordSql(rows.Xid, rows.Captured))));
        }
        catch (PgErrorException error)
        {
            Log.PrepareNotRecorded(services.Logger, processId(), error.Error.SqlState, error.Error.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "session {ProcessId}: its prepared transaction's changes could not be kept for two-phase slots ({SqlState}: {Message}); they go out whole at its COMMIT PREPARED")]
        public static partial void PrepareNotRecorded(ILogger logger, int processId, string sqlState, string message);
    }
}
