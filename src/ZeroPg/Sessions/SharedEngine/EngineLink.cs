using Microsoft.Extensions.Logging;
using ZeroPg.Engine;

namespace ZeroPg.Sessions;

/// <summary>
/// One session's calls to the engine, made while it holds the engine (<see cref="EngineLease"/>): a
/// batch goes to the engine host, its reply is read on the engine reader thread by the session's
/// <see cref="ReplyForwarder"/>, and once it is complete the session applies the outcomes
/// (<see cref="ReplyPlan.ApplyOutcomes"/>) and the client's new transaction status. Thread: the session.
/// </summary>
internal sealed partial class EngineLink(SessionServices services, ReplyForwarder forwarder, SessionCancel cancel, ProtocolState state,
    EngineRestart restart, EngineLease lease, Func<int> processId)
{
    public ReplyForwarder Reply => forwarder;

    /// <summary>The engine time of this session's calls so far, from each batch's submission to its whole reply (<see cref="PipelineSlices"/>).</summary>
    public TimeSpan EngineTime { get; private set; }

    // The engine time and calls of this session's current turn with the engine (EngineLease.Turn), for the hold log.
    private int _turn;
    private TimeSpan _turnEngineTime;
    private int _turnCalls;

    /// <summary>
    /// The engine time and the number of calls of this session's turn so far: how much of a long hold the engine spent on the
    /// client's statements (the rest is the client's gaps and the server's own work). Read by <see cref="EngineHoldLog"/> on the
    /// releasing thread; a log line's figures, not state anything decides on.
    /// </summary>
    public (TimeSpan Busy, int Calls) TurnWork => _turn == lease.Turn ? (_turnEngineTime, _turnCalls) : (TimeSpan.Zero, 0);

    /// <summary>
    /// Runs a batch with client messages and waits for its whole reply. With <paramref name="releaseAfterSubmit"/>
    /// the engine is handed over as soon as the batch is written (pipelining, <see cref="EngineLease.HandOver"/>): the next
    /// client's unit goes to the engine host behind it.
    /// </summary>
    public Task RunAsync(EngineBatch batch, ReplyMode mode, bool dropCopyInResponse = false, bool releaseAfterSubmit = false)
        => RunAsync(batch.Buffer.Frame(), mode, batch.Plan, dropCopyInResponse, releaseAfterSubmit, batch);

    /// <summary>Runs a frame of client messages without a reply plan (a COPY's last part).</summary>
    public Task RunAsync(ReadOnlyMemory<byte> frame, ReplyMode mode, bool dropCopyInResponse = false)
        => RunAsync(frame, mode, null, dropCopyInResponse, false, null);

    /// <summary>Runs a frame of client messages read by <paramref name="plan"/> when it has one (a COPY's last part through the extended protocol).</summary>
    public Task RunAsync(ReadOnlyMemory<byte> frame, ReplyMode mode, ReplyPlan? plan, bool dropCopyInResponse)
        => RunAsync(frame, mode, plan, dropCopyInResponse, false, null);

    /// <summary>
    /// Runs a batch of the client's statements whose reply the session reads before the client sees it (a unit that uses advisory
    /// locks, <see cref="AdvisoryLocks.RunCapturedAsync"/>; a COPY's pieces, whose CopyInResponse the session gave the client
    /// itself: <paramref name="dropCopyInResponse"/>): as any call of the client's, a cancel reaches it (its CancelRequest, the
    /// watchdog, its connection closing), and a cancel the engine ignored ends its reply with the cancel's error once the engine is
    /// restarted to stop it.
    /// </summary>
    public Task RunCapturedAsync(EngineBatch batch, bool dropCopyInResponse)
        => RunAsync(batch.Buffer.Frame(), ReplyMode.Capture, batch.Plan, dropCopyInResponse, false, batch, clientStatements: true);

    /// <summary>A call of the client's messages: the client's transaction status follows its reply (<see cref="CallAsync"/>, <c>clientCall</c>).</summary>
    private Task RunAsync(ReadOnlyMemory<byte> frame, ReplyMode mode, ReplyPlan? plan, bool dropCopyInResponse, bool releaseAfterSubmit, EngineBatch? batch,
        bool clientStatements = false)
        => CallAsync(frame, mode, plan, dropCopyInResponse, releaseAfterSubmit, batch, clientStatements, clientCall: true);

    /// <summary>Runs SQL of ZeroPg's own (see <see cref="OwnSql"/>); the client's transaction status is not touched. Returns the captured reply in <see cref="ReplyMode.Capture"/>.</summary>
    public Task<IReadOnlyList<byte[]>> RunOwnSqlAsync(ReplyMode mode, params IEnumerable<string> statements)
        => RunOwnSqlAsync(mode, OwnSql.Batch(statements));

    /// <summary>
    /// Runs a batch of ZeroPg's own messages (see <see cref="OwnSql"/>); the client's transaction status is not touched. The
    /// client's statement_timeout raises nothing in it (<see cref="HostRequestKind.OwnBatch"/>), unless it runs the client's own
    /// query further (<paramref name="clientQuery"/>: a portal read ahead).
    /// </summary>
    public async Task<IReadOnlyList<byte[]>> RunOwnSqlAsync(ReplyMode mode, BatchBuffer batch, bool clientQuery = false)
    {
        if (batch.IsEmpty)
            return [];
        await CallAsync(batch.Frame(clientQuery ? HostRequestKind.Batch : HostRequestKind.OwnBatch), mode, null, false, false, null);
        return mode == ReplyMode.Capture ? [.. forwarder.Captured] : [];
    }

    /// <summary>Writes a frame that has no reply of its own (a part of a COPY's data).</summary>
    public async Task SendPartAsync(ReadOnlyMemory<byte> frame)
    {
        var engine = await services.Engine.GetAsync();
        await engine.SendPartAsync(frame);
    }

    /// <summary>
    /// Runs one engine call; true when the engine was restarted to stop it (its client cancelled it), and its reply was ended here.
    /// With <paramref name="clientCall"/> the client's transaction status then follows the reply (or its loss in the restart):
    /// here rather than in an async method around this one, whose box and continuation every client unit paid for.
    /// </summary>
    private async Task<bool> CallAsync(ReadOnlyMemory<byte> frame, ReplyMode mode, ReplyPlan? plan, bool dropCopyInResponse, bool releaseAfterSubmit,
        EngineBatch? batch, bool clientStatements = false, bool clientCall = false)
    {
        var restarted = false;
        if (!lease.IsHeld)
            throw new InvalidOperationException("an engine call from a session that does not hold the engine");
        var engine = await services.Engine.GetAsync();
        forwarder.Begin(mode, plan, dropCopyInResponse);
        Log.Submitting(services.Logger, processId(), frame.Length, plan?.Count ?? 0, mode);
        using (cancel.EnterEngineCall(clientStatements: clientStatements || mode == ReplyMode.Forward))
        {
            batch?.MarkSending(); // commits what its preamble changes in the shared engine state, before anyone else builds a batch
            var submitted = System.Diagnostics.Stopwatch.GetTimestamp();
            await engine.SubmitAsync(forwarder, frame);
            cancel.Submitted(engine, forwarder.Sequence);
            if (releaseAfterSubmit)
                lease.HandOver();
            try
            {
                await forwarder.Completion;
            }
            catch (EngineFailedException error) when (error.KilledToCancel && (mode == ReplyMode.Forward || clientStatements))
            {
                await RecoverFromCancelRestartAsync(engine, error);
                restarted = true;
            }
            finally
            {
                var spent = System.Diagnostics.Stopwatch.GetElapsedTime(submitted);
                EngineTime += spent;
                if (_turn != lease.Turn)
                    (_turn, _turnEngineTime, _turnCalls) = (lease.Turn, TimeSpan.Zero, 0);
                _turnEngineTime += spent;
                _turnCalls++;
                if (releaseAfterSubmit && !lease.EndHandOver())
                    services.Metrics.RecordPipelinedUnit(); // another client's unit was queued behind this one
            }
        }
        plan?.ApplyOutcomes();
        // A preamble Query that failed outside a guarded block (whose failure is recovered by GuardedRestore) left the engine
        // session's settings other than recorded at the send: the next preamble resets them whole. Before, an unguarded restore
        // of "RESET default_transaction_read_only; SET temp_buffers = 100" failed whole unseen, the engine kept a read-only
        // client's default, and the next client's transaction was read-only (issue 59's outside fuzzer's witness: 25006).
        if (forwarder.PreambleErred && forwarder.PreambleFailure is null)
            services.EngineState.SettingsUnknown = true;
        if (services.Logger.IsEnabled(LogLevel.Trace))
            Log.ReplyDone(services.Logger, processId(), forwarder.LastStatus?.ToString() ?? "-");
        if (clientCall)
        {
            if (restarted)
                state.LostInRestart();
            else if (forwarder.PreambleFailure is null && forwarder.LastStatus is { } status) // after a failed preamble the status is its aborted block's
                state.Ready(status);
        }
        return restarted;
    }

    /// <summary>
    /// The engine was killed to stop this client's cancelled call: once the new engine runs, the client's reply ends
    /// with the cancel's error (57014, or 55P03 for a lock timeout) and the client goes on, its session state restored
    /// by its next batch as after any restart (<see cref="EngineRestart"/>).
    /// </summary>
    private async Task RecoverFromCancelRestartAsync(Engine.EngineProcess killed, EngineFailedException error)
    {
        await services.Engine.GetReplacementAsync(killed);
        if (lease.IsHeld)
            restart.OnEngineAcquired(mayEnd: false); // no new grant comes while the engine is held: forget the old engine session now
        else
            restart.OnEngineReplaced(); // handed over (a pipelined unit): what the session lost is known now, its next grant forgets it
        if (restart.Ended is { } ended) // its session could not be put back whole: FATAL rather than the cancel's ERROR
            throw new Protocol.PgErrorException(ended with { Detail = EngineRestart.CancelRestartReason(error) + (ended.Detail is { } lost ? " " + lost : "") });
        var inTransaction = state.Transaction != TransactionState.Idle;
        Log.CancelledByRestart(services.Logger, processId(), error.IgnoredCancelFor.TotalMilliseconds);
        await forwarder.AbandonAsync(restart.CancelledError(error, inTransaction), inTransaction ? Protocol.TransactionStatus.Failed : Protocol.TransactionStatus.Idle);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Trace, Message = "session {ProcessId}: engine call of {Bytes} bytes, {Expectations} expected replies, mode {Mode}")]
        public static partial void Submitting(ILogger logger, int processId, int bytes, int expectations, ReplyMode mode);

        [LoggerMessage(Level = LogLevel.Warning, Message = "session {ProcessId}: its cancelled statement ran on {Milliseconds:0} ms and the engine was restarted to stop it; the client gets 57014 and stays")]
        public static partial void CancelledByRestart(ILogger logger, int processId, double milliseconds);

        [LoggerMessage(Level = LogLevel.Trace, Message = "session {ProcessId}: reply done, status {Status}")]
        public static partial void ReplyDone(ILogger logger, int processId, string status);
    }
}
