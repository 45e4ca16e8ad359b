using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;
using ZeroPg.Replication.Walsender;
using ZeroPg.Sql;

namespace ZeroPg.Sessions;

/// <summary>
/// A connection opened with the startup parameter replication: its replication commands go to a
/// <see cref="WalsenderSession"/>, its plain SQL (replication=database) to the engine as any client's. The walsender's own SQL
/// runs between other clients' units as the engine's role. Thread: the session's message loop (cancel and terminate: the signaller's).
/// </summary>
internal sealed class ReplicationConnection
{
    private readonly SessionComposition _parts;
    private ReplicationCommand? _command;

    public ReplicationConnection(ReplicationMode mode, SessionComposition parts, EngineLending lending, object session)
    {
        _parts = parts;
        var services = parts.Services;
        Walsender = new WalsenderSession(mode, parts.Input, parts.Output, RunSqlAsync, services.ReplicationSlots,
            () => parts.Identity.ProcessId, services.DatabaseName, parts.ConnectionClosed)
        {
            Exports = new Replication.Snapshots.SnapshotExports(session, services.Snapshots, () => services.Engine.Generation, lending.BorrowAsync),
            SessionSetting = name => parts.Settings.Values.GetValueOrDefault(name),
            Cluster = services.Databases?.Slots,
        };
    }

    public WalsenderSession Walsender { get; }

    /// <summary>The tag of a SET answered by ZeroPg (<see cref="SetsWithoutWaiting"/>).</summary>
    public string LocalSetTag { get; private set; } = "SET";

    /// <summary>A Query on this connection: a replication command to run, an error to answer, or null for plain SQL (which goes to the engine on replication=database, as Postgres allows).</summary>
    public AcceptStep? Accept(string text, out PgError? refusal)
    {
        refusal = null;
        Walsender.CommandArrived(); // ends the snapshot it exported, as Postgres does
        try
        {
            if (ReplicationCommandParser.Parse(text) is { } command)
            {
                if (command is ShowCommand && Walsender.Mode == ReplicationMode.Database)
                    return null; // SQL's SHOW gives the same row and sees this client's own SETs
                _command = command;
                return AcceptStep.Replication;
            }
        }
        catch (PgErrorException error) when (!error.Error.IsFatal)
        {
            refusal = error.Error;
            return AcceptStep.Refuse;
        }
        if (Walsender.Mode != ReplicationMode.Physical)
            return null;
        refusal = PgError.Error(SqlState.FeatureNotSupported, "cannot execute SQL commands in WAL sender for physical replication",
            "Connect with replication=database to run SQL and logical replication commands.");
        return AcceptStep.Refuse;
    }

    /// <summary>
    /// A SET while another client's transaction holds the engine: zero-cache sets lock_timeout on its walsender connection from
    /// inside a transaction that waits for the slot it makes there, so waiting for the engine would never end. The setting is this
    /// client's at once and goes to the engine with its next unit (<see cref="SessionSettings.SetLater"/>).
    /// </summary>
    public bool SetsWithoutWaiting(SqlAnalysis sql, ClientBatch batch)
    {
        if (_parts.State.Status != TransactionStatus.Idle || !batch.IsEmpty || _parts.Lease.IsHeld || _parts.Services.Scheduler.Owner is not ClientSession
            || !sql.TryPlainSet(out var name, out var value))
            return false;
        _parts.Settings.SetLater(name, value);
        LocalSetTag = sql.Sql.TrimStart().StartsWith("RESET", StringComparison.OrdinalIgnoreCase) ? "RESET" : "SET";
        return true;
    }

    /// <summary>Runs the replication command accepted and answers it (an ERROR, or its replies and ReadyForQuery).</summary>
    public async Task RunCommandAsync(Func<PgError, int, Task> writeError)
    {
        var command = _command!;
        _command = null;
        try
        {
            await Walsender.RunAsync(command, _parts.State.Status != TransactionStatus.Idle);
            ReadyForQuery.Write(_parts.Output, _parts.State.Status);
            await _parts.Output.FlushAsync();
            await Walsender.AfterReadyAsync(); // a slot made while another client's transaction held the engine
        }
        catch (PgErrorException error) when (!error.Error.IsFatal)
        {
            await writeError(error.Error, 1);
        }
    }

    /// <summary>The walsender's own statements, each statement's rows returned (slots and the change log are ZeroPg's, whatever role the client logged in as).</summary>
    private async Task<IReadOnlyList<IReadOnlyList<string?[]>>> RunSqlAsync(IReadOnlyList<string> statements)
    {
        await AcquireAsync();
        try
        {
            var batch = EngineStateRestore.AppendEngineRole(new BatchBuffer(), _parts.Services.EngineState);
            var reply = await _parts.Link.RunOwnSqlAsync(ReplyMode.Capture, OwnSql.Append(batch, statements));
            var results = EngineResults.Split(reply);
            return results.Skip(results.Count - statements.Count).ToList(); // the role switch's own result first, when there was one
        }
        finally
        {
            _parts.Lease.ReleaseIfIdle(_parts.State);
        }
    }

    /// <summary>
    /// The engine for the walsender's own SQL. Once its client is gone the wait is not cancelled by that: a stream's end still writes
    /// the position its client confirmed last (a StandbyStatusUpdate right before it closed), which another client may be waiting to see.
    /// </summary>
    private async Task AcquireAsync()
    {
        if (!_parts.ConnectionClosed.IsCancellationRequested)
        {
            try
            {
                await _parts.Lease.AcquireAsync();
                return;
            }
            catch (OperationCanceledException) when (_parts.ConnectionClosed.IsCancellationRequested)
            {
            }
        }
        await _parts.Lease.AcquireForCleanupAsync();
    }
}
