using System.Buffers;
using System.IO.Pipelines;
using ZeroPg.Engine;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Frontend;

namespace ZeroPg.Sessions;

/// <summary>
/// COPY FROM STDIN. PGlite accepts COPY only when the Query, every CopyData and the CopyDone arrive in
/// ONE call. So ZeroPg learns the exact CopyInResponse with a probe (the COPY ended at once by CopyFail;
/// inside a transaction wrapped in a savepoint), sends it to the client, streams the client's data to the
/// engine host as parts of one pending call, and runs it when CopyDone or CopyFail arrives. ZeroPg holds
/// at most ~1 MB of it; the engine host holds it whole, so its size is capped (MaxCopyInBytes).
/// Thread: the session, holding the engine from the probe to the end of the COPY.
/// </summary>
internal sealed class CopyIn(SessionServices services, ProtocolState state, EngineLink link, EngineStateRestore restore, PipeWriter output)
{
    private const int PartBytes = 1024 * 1024;
    private const string ProbeSavepoint = "zeropg_copy_probe";

    private byte[]? _pendingQuery;
    private BatchBuffer? _data;

    /// <summary>The COPY came through the extended protocol: how to read the reply of the call that runs it (its BindComplete was answered already).</summary>
    private ReplyPlan? _extendedPlan;
    private long _totalBytes;
    private bool _overflowed;

    /// <summary>Bytes of COPY data received in the COPY under way (diagnostics).</summary>
    public long BytesReceived => _data is null ? 0 : Volatile.Read(ref _totalBytes);

    /// <summary>A COPY FROM STDIN Query was accepted; it starts once what came before it has run.</summary>
    public void Pend(ReadOnlySequence<byte> query) => _pendingQuery = query.ToArray();

    /// <summary>Probes the COPY and, when it can start, answers the client's CopyInResponse. The caller holds the engine.</summary>
    public async Task StartAsync()
    {
        var query = _pendingQuery!;
        _pendingQuery = null;
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
            _data = new BatchBuffer(PartBytes + 64 * 1024);
            _data.Append(query);
            _totalBytes = query.Length;
            _overflowed = false;
            state.CopyStarted();
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
    /// (Bind, Execute, CopyFail, then a Sync of ours), then the Bind and Execute open the pending call the data streams into;
    /// the client's Sync after CopyDone ends the sequence. The caller holds the engine.
    /// </summary>
    public async Task StartExtendedAsync(UnitRewriter rewriter, ClientBatch client)
    {
        var first = client.Count - 2;
        var probe = new EngineBatch();
        var inTransaction = state.Status == TransactionStatus.InTransaction;
        if (state.Status != TransactionStatus.Failed)
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
                var start = new EngineBatch();
                rewriter.Build(start, client, first, 2, preamble: false);
                _extendedPlan = new ReplyPlan();
                foreach (var expectation in start.Plan.Expectations)
                    _extendedPlan.Add(expectation.Code == FrontendCode.Bind ? expectation with { Kind = ExpectKind.Swallow } : expectation);
                _data = new BatchBuffer(PartBytes + 64 * 1024);
                _data.Append(start.Buffer.Messages);
                _totalBytes = start.Buffer.MessageBytes;
                _overflowed = false;
                state.CopyStarted();
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
        var data = _data!;
        switch (code)
        {
            case FrontendCode.CopyData:
                Volatile.Write(ref _totalBytes, _totalBytes + message.Length);
                if (_totalBytes > services.Options.MaxCopyInBytes)
                {
                    _overflowed = true;
                    return AcceptStep.Continue; // keep reading until CopyDone, then fail the COPY as a whole
                }
                data.Append(message);
                return data.MessageBytes >= PartBytes ? AcceptStep.SendCopyPart : AcceptStep.Continue;
            case FrontendCode.CopyDone:
                // The engine gets a CopyDone of ours, never the client's: a body (which Postgres ignores) is dropped here.
                if (_overflowed)
                    CopyFailMessage.Write(data, $"COPY data exceeds ZeroPg's limit of {services.Options.MaxCopyInBytes} bytes (MaxCopyInBytes, --max-copy-bytes)");
                else
                    EmptyFrontendMessage.Write(data, FrontendCode.CopyDone);
                return AcceptStep.FinishCopy;
            case FrontendCode.CopyFail:
                // Re-written so that its text, converted from the client's encoding, still fits Postgres's small-message limit.
                CopyFailMessage.Write(data, CopyFailMessage.ReadReason(message));
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

    /// <summary>Sends the data held so far as a part of the pending engine call.</summary>
    public async Task SendPartAsync()
    {
        var data = _data!;
        await link.SendPartAsync(data.Frame(HostRequestKind.Partial));
        data.Clear();
    }

    /// <summary>CopyDone or CopyFail came: the COPY runs, and its reply goes to the client.</summary>
    public Task FinishAsync() => EndAsync(null, ReplyMode.Forward);

    /// <summary>The client left during COPY: the pending engine call ends with CopyFail, so nothing is half-sent.</summary>
    public Task AbortAsync() => EndAsync("client disconnected during COPY", ReplyMode.Discard);

    private async Task EndAsync(string? fail, ReplyMode mode)
    {
        var data = _data!;
        var plan = _extendedPlan;
        _data = null;
        _extendedPlan = null;
        state.CopyEnded();
        if (fail is not null)
            CopyFailMessage.Write(data, fail);
        // No preamble: the data parts already sent precede this frame in the engine host.
        await link.RunAsync(data.Frame(), mode, plan, dropCopyInResponse: true);
        if (plan is not null)
            state.Sent(sequenceOpen: true); // the extended sequence ends with the client's Sync
    }

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
