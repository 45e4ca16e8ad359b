using System.Buffers;
using System.IO.Pipelines;
using ZeroPg.Engine;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;
using ZeroPg.Protocol.Frontend;
using ZeroPg.Sessions.Copy;
using ZeroPg.Sql;

namespace ZeroPg.Sessions;

/// <summary>
/// COPY FROM STDIN. PGlite accepts COPY only when the Query, every CopyData and the CopyDone arrive in ONE call, so
/// ZeroPg takes the client's data first and the engine only when it is complete. It learns the exact CopyInResponse
/// with a probe (the COPY ended at once by CopyFail; inside a transaction wrapped in a savepoint), sends it to the client
/// and, outside a transaction block, gives the engine up at once: the data goes to a <see cref="CopySpool"/> (memory, then
/// an unlinked temporary file), cut at row boundaries as it comes (<see cref="CopyRowCutter"/>), and at CopyDone the
/// session queues for the engine and <see cref="CopyLoad"/> runs the pieces. CopyFail or a disconnect before CopyDone
/// costs the engine nothing. Inside a transaction block the engine is the client's already; a client that stalls there
/// is ended by <see cref="ZeroPgOptions.CopyStallTimeout"/> (<see cref="SessionTimeouts"/>).
/// Thread: the session.
/// </summary>
internal sealed class CopyIn(SessionServices services, ProtocolState state, EngineLink link, EngineStateRestore restore, GuardedRestore guarded, PipeWriter output,
    EngineLease lease)
{
    private const string ProbeSavepoint = "zeropg_copy_probe";

    private readonly CopyLoad _load = new(services, state, link, restore, output);
    private byte[]? _pendingQuery;
    private SqlAnalysis? _pendingSql;

    // The COPY under way.
    private CopySpool? _spool;
    private CopyRowCutter? _cutter;
    private string _sql = "";
    private bool _extended;
    private string? _failed;
    private bool _overflowed;
    private long _totalBytes;

    /// <summary>Bytes of COPY data received in the COPY under way (diagnostics).</summary>
    public long BytesReceived => Volatile.Read(ref _totalBytes);

    /// <summary>The COPY FROM STDIN accepted and not started yet: its unit's query in pg_stat_activity (and the engine hold log).</summary>
    public string? PendingSql => _pendingSql?.Sql;

    /// <summary>A COPY FROM STDIN Query was accepted; it starts once what came before it has run.</summary>
    public void Pend(ReadOnlySequence<byte> query, SqlAnalysis sql)
    {
        _pendingQuery = query.ToArray();
        _pendingSql = sql;
    }

    /// <summary>Probes the COPY and, when it can start, answers the client's CopyInResponse. The caller holds the engine.</summary>
    public async Task StartAsync()
    {
        var query = _pendingQuery!;
        var sql = _pendingSql!;
        _pendingQuery = null;
        _pendingSql = null;
        await RestoreCheckedAsync();
        var batch = new EngineBatch();
        restore.WritePreamble(batch);
        if (state.Status == TransactionStatus.Failed)
        {
            // An aborted transaction rejects the COPY before it reads data: let the engine say so.
            await RunWithoutDataAsync(batch, query);
            return;
        }
        var inTransaction = state.Status == TransactionStatus.InTransaction; // a deferred BEGIN is in the preamble
        if (inTransaction)
            QueryMessage.Write(batch.Buffer, $"SAVEPOINT {ProbeSavepoint}");
        batch.Buffer.Append(query);
        CopyFailMessage.Write(batch.Buffer, "zeropg probe");
        if (inTransaction)
            QueryMessage.Write(batch.Buffer, $"ROLLBACK TO SAVEPOINT {ProbeSavepoint}; RELEASE SAVEPOINT {ProbeSavepoint}");
        await RunAsync(batch, ReplyMode.Capture);

        var captured = link.Reply.Captured;
        var copyIn = captured.FirstOfKind(BackendCode.CopyInResponse);
        if (copyIn is not null)
        {
            var format = CopyFormat.Read(sql, BinaryResponse(copyIn));
            Begin(format is null ? sql.Sql : CopyFormat.StatementText(sql), format, extended: false);
            output.Write(copyIn);
            await output.FlushAsync();
            return;
        }
        if (!inTransaction)
        {
            // The COPY failed before reading data (no such table, bad syntax): that error is the answer.
            foreach (var message in captured)
                output.Write(message);
            await output.FlushAsync();
            return;
        }
        // Inside a transaction the probe's savepoint hid the failure; run it for real so the transaction aborts as Postgres would.
        await RunWithoutDataAsync(new EngineBatch(), query);
    }

    /// <summary>
    /// COPY FROM STDIN through the extended protocol (tokio-postgres): the client's last two messages held are the Bind and
    /// the Execute of it, and it waits for BindComplete and CopyInResponse before it sends data. Probed as a simple COPY is
    /// (Bind, Execute, CopyFail, then a Sync of ours); the data is then taken as for a simple COPY and loaded by the
    /// statement's SQL in simple Queries (a COPY has no parameters); the client's Sync after CopyDone ends the sequence.
    /// The caller holds the engine.
    /// </summary>
    public async Task StartExtendedAsync(UnitRewriter rewriter, ClientBatch client, StatementMapping statements)
    {
        var first = client.Count - 2;
        await RestoreCheckedAsync();
        var probe = new EngineBatch();
        var inTransaction = state.Status == TransactionStatus.InTransaction;
        if (state.Status != TransactionStatus.Failed && CopyPortals.StatementAt(client, statements, first) is { } sql)
        {
            rewriter.Build(probe, client, first, 2, preamble: true, afterPreamble: inTransaction ? $"SAVEPOINT {ProbeSavepoint}" : null);
            CopyFailMessage.Write(probe.Buffer, "zeropg probe");
            EmptyFrontendMessage.Write(probe.Buffer, FrontendCode.Sync);
            probe.Plan.Expect(ExpectKind.Swallow, FrontendCode.Sync);
            if (inTransaction)
            {
                QueryMessage.Write(probe.Buffer, $"ROLLBACK TO SAVEPOINT {ProbeSavepoint}; RELEASE SAVEPOINT {ProbeSavepoint}");
                probe.Plan.Expect(ExpectKind.Swallow, FrontendCode.Query);
            }
            await RunAsync(probe, ReplyMode.Capture);
            if (inTransaction)
                services.Statements.SetUnnamed(null); // the savepoint's Query dropped the unnamed statement: the client's is parsed again
            var captured = link.Reply.Captured;
            if (captured.FirstOfKind(BackendCode.CopyInResponse) is { } copyIn)
            {
                state.Sent(sequenceOpen: false); // the probe's Sync closed what the engine held of the sequence
                var format = CopyFormat.Read(sql, BinaryResponse(copyIn));
                Begin(format is null ? sql.Sql : CopyFormat.StatementText(sql), format, extended: true);
                foreach (var message in captured.OfKind(BackendCode.BindComplete))
                    output.Write(message);
                output.Write(copyIn);
                await output.FlushAsync();
                return;
            }
        }
        // The COPY cannot start (no such table, an aborted transaction, ...): run it for real with no data, so the engine
        // answers and aborts as Postgres would; the sequence stays open for the client's Sync.
        var failing = new EngineBatch();
        rewriter.Build(failing, client, first, 2, preamble: true);
        CopyFailMessage.Write(failing.Buffer, "COPY could not start");
        await RunAsync(failing, ReplyMode.Forward, dropCopyInResponse: true);
    }

    /// <summary>Takes one client message during the COPY.</summary>
    public AcceptStep Accept(FrontendCode code, ReadOnlySequence<byte> message)
    {
        switch (code)
        {
            case FrontendCode.CopyData:
                var data = message.Slice(MessageFramer.HeaderLength);
                Volatile.Write(ref _totalBytes, _totalBytes + data.Length);
                if (_failed is not null || _overflowed || _cutter?.Ended == true)
                    return AcceptStep.Continue; // after the data's own end, as Postgres, nothing more is read
                if (_totalBytes > services.Options.MaxCopyInBytes)
                {
                    _overflowed = true; // keep reading until CopyDone, then fail the COPY as a whole
                    return AcceptStep.Continue;
                }
                foreach (var segment in data)
                {
                    _spool!.Append(segment.Span);
                    _cutter?.Feed(segment.Span);
                }
                return AcceptStep.Continue;
            case FrontendCode.CopyDone:
                return AcceptStep.FinishCopy; // a body (which Postgres ignores) is dropped here
            case FrontendCode.CopyFail:
                _failed = CopyFailMessage.ReadReason(message);
                return AcceptStep.FinishCopy;
            case FrontendCode.Flush:
            case FrontendCode.Sync:
                return AcceptStep.Continue; // ignored during COPY, as Postgres does
            case FrontendCode.Terminate:
                return AcceptStep.Terminate;
            default: // the framer refuses these in COPY mode already
                throw ProtocolViolation.Create($"unexpected message type 0x{(byte)code:X2} during COPY from stdin");
        }
    }

    /// <summary>CopyDone or CopyFail came: the session queues for the engine (outside a block) and the COPY runs; the client gets its reply.</summary>
    public async Task FinishAsync()
    {
        var spool = _spool!;
        var (sql, cutter, extended, failed, overflowed) = (_sql, _cutter, _extended, _failed, _overflowed);
        End();
        try
        {
            PgError? refusal = failed is not null
                ? PgError.Error(SqlState.QueryCanceled, $"COPY from stdin failed: {failed}")
                : overflowed
                    ? PgError.Error(SqlState.ProgramLimitExceeded, $"COPY data exceeds ZeroPg's limit of {services.Options.MaxCopyInBytes} bytes",
                        "Raise MaxCopyInBytes (--max-copy-bytes), or load the data in several COPY commands.")
                    : null;
            if (refusal is not null && state.Transaction == TransactionState.Idle)
            {
                await WriteErrorAsync(refusal, extended); // outside a block nothing reached the engine: nothing to undo
                return;
            }
            try
            {
                await lease.AcquireAsync();
                await RestoreCheckedAsync();
            }
            catch (PgErrorException error) when (!error.Error.IsFatal)
            {
                await WriteErrorAsync(error.Error, extended); // waited too long, or cancelled in the queue or in the restore: nothing ran
                return;
            }
            if (refusal is not null)
            {
                await _load.AbortInBlockAsync(sql, refusal.Message);
                await WriteErrorAsync(refusal, extended);
                return;
            }
            await _load.RunAsync(sql, spool, cutter, extended);
        }
        finally
        {
            spool.Dispose();
        }
    }

    /// <summary>
    /// The client's state restored in a checked call of its own (<see cref="GuardedRestore.RestoreAloneAsync"/>) before a COPY's
    /// batch, whose own preamble is plain swallowed Queries: a rename of temp tables that failed there (a read-only default, a
    /// 1 ms statement_timeout another client left) went unseen while the bookkeeping took it as done, and the next client's
    /// restore then met the relation under both names (42P07) and was ended with 57P01 (bench/outside-fuzz.mjs's witness).
    /// Outside the client's own block only: inside it, the engine session is the client's already. The caller holds the engine.
    /// </summary>
    private async Task RestoreCheckedAsync()
    {
        if (state.EngineUntouched)
            await guarded.RestoreAloneAsync();
    }

    /// <summary>The client left during COPY: its data goes; the engine holds nothing of it (inside a block the session's cleanup rolls back).</summary>
    public void Abort()
    {
        if (_spool is null)
            return;
        _spool.Dispose();
        End();
    }

    private void Begin(string sql, CopyFormat? format, bool extended)
    {
        _spool = new CopySpool();
        _cutter = format is null ? null : new CopyRowCutter(format, services.Options.CopyPieceBytes, services.Options.CopyPieceRows);
        _sql = sql;
        _extended = extended;
        _failed = null;
        _overflowed = false;
        Volatile.Write(ref _totalBytes, 0);
        state.CopyStarted();
        if (state.Transaction == TransactionState.Idle)
            lease.Release(); // the data may take long to come: others use the engine meanwhile
    }

    private void End()
    {
        _spool = null;
        _cutter = null;
        state.CopyEnded();
    }

    private async Task WriteErrorAsync(PgError error, bool extended)
    {
        ErrorResponse.Write(output, error);
        if (!extended)
            ReadyForQuery.Write(output, state.Status);
        await output.FlushAsync();
    }

    private static bool BinaryResponse(byte[] copyInResponse) => copyInResponse.Length > MessageFramer.HeaderLength && copyInResponse[MessageFramer.HeaderLength] == 1;

    /// <summary>Runs the COPY with no data and CopyFail, forwarding the engine's error (the COPY cannot start).</summary>
    private async Task RunWithoutDataAsync(EngineBatch batch, byte[] query)
    {
        batch.Buffer.Append(query);
        CopyFailMessage.Write(batch.Buffer, "COPY could not start");
        await RunAsync(batch, ReplyMode.Forward, dropCopyInResponse: true);
    }

    private Task RunAsync(EngineBatch batch, ReplyMode mode, bool dropCopyInResponse = false)
        => link.RunAsync(batch, mode, dropCopyInResponse: dropCopyInResponse);
}
