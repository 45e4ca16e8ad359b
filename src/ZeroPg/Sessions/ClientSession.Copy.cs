using System.Buffers;
using ZeroPg.Engine;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Frontend;

namespace ZeroPg.Sessions;

/// <summary>
/// COPY FROM STDIN. PGlite accepts COPY only when the Query, every CopyData and the CopyDone arrive in
/// ONE call. So ZeroPg learns the exact CopyInResponse with a probe (the COPY ended at once by CopyFail),
/// sends it to the client, streams the client's data to the engine host as parts of one pending call,
/// and runs it when CopyDone or CopyFail arrives.
/// </summary>
internal sealed partial class ClientSession
{
    private const int CopyPartBytes = 1024 * 1024;
    private const string ProbeSavepoint = "zeropg_copy_probe";

    private byte[]? _pendingCopyQuery;
    private CopyInState? _copy;

    private sealed class CopyInState(byte[] query)
    {
        public BatchBuffer Buffer { get; } = NewBuffer(query);
        public long TotalBytes { get; set; } = query.Length;
        public bool Overflowed { get; set; }
        public bool PartsSent { get; set; }

        private static BatchBuffer NewBuffer(byte[] query)
        {
            var buffer = new BatchBuffer(CopyPartBytes + 64 * 1024);
            buffer.Append(query);
            return buffer;
        }
    }

    private async Task StartCopyAsync()
    {
        var query = _pendingCopyQuery!;
        _pendingCopyQuery = null;
        await AcquireEngineAsync();
        await RunDeferredBeginAsync();
        if (_status == TransactionStatus.Failed)
        {
            // An aborted transaction rejects the COPY before it reads data: let the engine say so.
            await RunCopyAsync(query, end: null);
            return;
        }
        var inTransaction = _status == TransactionStatus.InTransaction;
        var probe = new BatchBuffer();
        if (inTransaction)
            QueryMessage.Write(probe, $"SAVEPOINT {ProbeSavepoint}");
        probe.Append(query);
        CopyFailMessage.Write(probe, "zeropg probe");
        if (inTransaction)
            QueryMessage.Write(probe, $"ROLLBACK TO SAVEPOINT {ProbeSavepoint}; RELEASE SAVEPOINT {ProbeSavepoint}");
        await ExecuteAsync(probe.Frame(HostRequestKind.Batch, probe.MessageBytes), ReplyMode.Capture);

        var copyIn = _forwarder.Captured.FirstOrDefault(m => m[0] == (byte)BackendCode.CopyInResponse);
        if (copyIn is not null)
        {
            _copy = new CopyInState(query);
            _output.Write(copyIn);
            await _output.FlushAsync();
            return;
        }
        if (!inTransaction)
        {
            // The COPY failed before reading data (no such table, bad syntax): that error is the answer.
            foreach (var message in _forwarder.Captured)
                _output.Write(message);
            await _output.FlushAsync();
            ReleaseEngineIfIdle();
            return;
        }
        // Inside a transaction the probe's savepoint hid the failure; run it for real so the transaction aborts as Postgres would.
        await RunCopyAsync(query, end: null);
    }

    /// <summary>Runs the COPY with no data and CopyFail, forwarding the engine's error (used when the COPY cannot start).</summary>
    private async Task RunCopyAsync(byte[] query, string? end)
    {
        var batch = new BatchBuffer();
        batch.Append(query);
        CopyFailMessage.Write(batch, end ?? "COPY could not start");
        await ExecuteAsync(batch.Frame(HostRequestKind.Batch, batch.MessageBytes), ReplyMode.Forward, dropCopyInResponse: true);
        ReleaseEngineIfIdle();
    }

    private Step AcceptCopy(FrontendCode code, ReadOnlySequence<byte> message)
    {
        var copy = _copy!;
        switch (code)
        {
            case FrontendCode.CopyData:
                copy.TotalBytes += message.Length;
                if (copy.TotalBytes > _services.Options.MaxCopyInBytes)
                {
                    copy.Overflowed = true;
                    return Step.Continue; // keep reading until CopyDone, then fail the COPY as a whole
                }
                copy.Buffer.Append(message);
                return copy.Buffer.MessageBytes >= CopyPartBytes ? Step.SendCopyPart : Step.Continue;
            case FrontendCode.CopyDone:
                if (copy.Overflowed)
                    CopyFailMessage.Write(copy.Buffer, $"COPY data exceeds ZeroPg's limit of {_services.Options.MaxCopyInBytes} bytes (MaxCopyInBytes, --max-copy-bytes)");
                else
                    copy.Buffer.Append(message);
                return Step.FinishCopy;
            case FrontendCode.CopyFail:
                copy.Buffer.Append(message);
                return Step.FinishCopy;
            case FrontendCode.Flush:
            case FrontendCode.Sync:
                return Step.Continue; // ignored during COPY, as Postgres does
            case FrontendCode.Terminate:
                return Step.Terminate;
            default:
                CopyFailMessage.Write(copy.Buffer, $"unexpected message type '{(char)code}' during COPY from stdin");
                return Step.FinishCopy;
        }
    }

    private async Task SendCopyPartAsync()
    {
        var copy = _copy!;
        var engine = await _services.Engine.GetAsync();
        await engine.SendPartAsync(copy.Buffer.Frame(HostRequestKind.Partial, copy.Buffer.MessageBytes));
        copy.Buffer.Clear();
        copy.PartsSent = true;
    }

    private async Task FinishCopyAsync()
    {
        var copy = _copy!;
        _copy = null;
        await ExecuteAsync(copy.Buffer.Frame(HostRequestKind.Batch, copy.Buffer.MessageBytes), ReplyMode.Forward, dropCopyInResponse: true);
        ReleaseEngineIfIdle();
    }

    /// <summary>The client left during COPY: end the pending engine call with CopyFail so nothing is half-sent.</summary>
    private async Task AbortCopyAsync()
    {
        var copy = _copy!;
        _copy = null;
        CopyFailMessage.Write(copy.Buffer, "client disconnected during COPY");
        await ExecuteAsync(copy.Buffer.Frame(HostRequestKind.Batch, copy.Buffer.MessageBytes), ReplyMode.Discard, dropCopyInResponse: true);
    }
}
