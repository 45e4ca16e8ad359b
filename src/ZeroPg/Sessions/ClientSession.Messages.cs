using System.Buffers;
using ZeroPg.Engine;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;
using ZeroPg.Protocol.Frontend;

namespace ZeroPg.Sessions;

internal sealed partial class ClientSession
{
    /// <summary>Above this, a batch without a Sync yet goes to the engine anyway (the engine keeps extended state across calls).</summary>
    private const int PartialBatchLimit = 4 * 1024 * 1024;

    /// <summary>A simple Query ZeroPg refuses itself: answered with this error and ReadyForQuery, in order.</summary>
    private PgError? _refusedQuery;

    /// <summary>Takes one whole client message. Synchronous: anything that must wait is returned as a step.</summary>
    private Step Accept(FrontendCode code, ReadOnlySequence<byte> message)
    {
        if (_copy is not null)
            return AcceptCopy(code, message);
        switch (code)
        {
            case FrontendCode.Query:
                return AcceptQuery(message);
            case FrontendCode.Sync:
                _extendedOpen = false;
                AppendUnitEnd(message);
                return Step.Continue;
            case FrontendCode.Flush:
                AppendUnitEnd(message);
                return Step.Continue;
            case FrontendCode.FunctionCall:
                AppendUnitEnd(message);
                return Step.Continue;
            case FrontendCode.Parse:
            case FrontendCode.Bind:
            case FrontendCode.Describe:
            case FrontendCode.Execute:
            case FrontendCode.Close:
                _extendedOpen = true;
                _batch.Append(message);
                return Step.Continue;
            case FrontendCode.CopyData:
            case FrontendCode.CopyDone:
            case FrontendCode.CopyFail:
                // Postgres ignores these outside COPY: a client may still be sending data of a COPY that failed.
                return Step.Continue;
            case FrontendCode.Terminate:
                return Step.Terminate;
            default:
                throw ProtocolViolation.Create($"unexpected message type '{(char)code}' after startup");
        }
    }

    private void AppendUnitEnd(ReadOnlySequence<byte> message)
    {
        _batch.Append(message);
        _batch.MarkUnitEnd();
        _extendedOpenAtUnitEnd = _extendedOpen;
    }

    private Step AcceptQuery(ReadOnlySequence<byte> message)
    {
        var body = Body(message, out var rented);
        try
        {
            var sql = Sql.SqlAnalysis.Of(QueryMessage.ReadSql(body));
            if (sql.CopiesFromStdinLater)
            {
                // PGlite dies on a COPY FROM STDIN whose data is not in the same call, and only a leading COPY gets its data.
                _refusedQuery = PgError.Error(SqlState.FeatureNotSupported,
                    "COPY FROM STDIN must be the first statement of a query in ZeroPg",
                    "Send the COPY as a query of its own (psql scripts and \\copy do); the query did not run.");
                return Step.LocalError;
            }
            if (sql.CopiesFromStdin)
            {
                _pendingCopyQuery = message.ToArray();
                return Step.StartCopy;
            }
        }
        finally
        {
            Return(rented);
        }
        AppendUnitEnd(message);
        return Step.Continue;
    }

    private async Task RunStepAsync(Step step)
    {
        switch (step)
        {
            case Step.LocalError:
                // Whatever came before the refused Query runs first, so replies stay in order.
                await SubmitPendingAsync(keepOpen: _extendedOpen);
                ErrorResponse.Write(_output, _refusedQuery!);
                ReadyForQuery.Write(_output, _status);
                _refusedQuery = null;
                await _output.FlushAsync();
                break;
            case Step.StartCopy:
                await SubmitPendingAsync(keepOpen: _extendedOpen);
                await StartCopyAsync();
                break;
            case Step.SendCopyPart:
                await SendCopyPartAsync();
                break;
            case Step.FinishCopy:
                await FinishCopyAsync();
                break;
        }
    }

    /// <summary>Sends the messages up to the last unit boundary (or a large unfinished batch) to the engine.</summary>
    private async Task SubmitCompleteUnitsAsync()
    {
        if (_batch.CompleteUnitEnd > 0 && _batch.CompleteUnitEnd == _batch.MessageBytes && TryDeferBegin(_batch.Messages[.._batch.CompleteUnitEnd]))
        {
            _batch.Consume(_batch.CompleteUnitEnd);
            await _output.FlushAsync();
            return;
        }
        if (_batch.CompleteUnitEnd > 0 && TryAnswerLocally(_batch.Messages[.._batch.CompleteUnitEnd]))
        {
            _batch.Consume(_batch.CompleteUnitEnd);
            await _output.FlushAsync();
        }
        if (_batch.CompleteUnitEnd > 0)
        {
            var end = _batch.CompleteUnitEnd;
            try
            {
                await ExecuteClientMessagesAsync(end);
            }
            catch (QueueWaitAbortedException aborted)
            {
                await ReportDroppedUnitsAsync(aborted.Error, CountReadyForQuery(_batch.Messages[..end]));
            }
            _batch.Consume(end);
            _engineExtendedOpen = _extendedOpenAtUnitEnd;
            ReleaseEngineIfIdle();
        }
        if (_batch.MessageBytes > PartialBatchLimit)
            await SubmitPendingAsync(keepOpen: true);
    }

    /// <summary>Sends every message held, complete unit or not.</summary>
    private async Task SubmitPendingAsync(bool keepOpen)
    {
        if (_batch.IsEmpty)
            return;
        await ExecuteClientMessagesAsync(_batch.MessageBytes);
        _batch.Clear();
        _engineExtendedOpen = keepOpen;
        ReleaseEngineIfIdle();
    }

    /// <summary>Runs one engine call for this session and waits for its whole reply.</summary>
    private async Task ExecuteAsync(ReadOnlyMemory<byte> frame, ReplyMode mode, bool dropCopyInResponse = false, List<Expectation>? expectations = null,
        bool releaseAfterSubmit = false)
    {
        await AcquireEngineAsync();
        var engine = await _services.Engine.GetAsync();
        _forwarder.Begin(mode, dropCopyInResponse, expectations);
        Log.Submitting(_services.Logger, ProcessId, frame.Length, expectations?.Count ?? 0, mode);
        _inEngineCall = true;
        try
        {
            await engine.SubmitAsync(_forwarder, frame);
            if (releaseAfterSubmit)
            {
                _services.Scheduler.Release(this); // the next client's unit queues behind ours in the engine host
                _services.Metrics.RecordPipelinedUnit();
            }
            await _forwarder.Completion;
        }
        finally
        {
            _inEngineCall = false;
        }
        Log.ReplyDone(_services.Logger, ProcessId, _forwarder.LastStatus?.ToString() ?? "-");
        if (_forwarder.LastStatus is { } status)
            _status = status;
    }

    private volatile bool _killedEngineToCancel;

    private static ReadOnlySpan<byte> Body(ReadOnlySequence<byte> message, out byte[]? rented)
    {
        rented = null;
        if (message.IsSingleSegment)
            return message.FirstSpan[5..];
        rented = ArrayPool<byte>.Shared.Rent((int)message.Length);
        message.CopyTo(rented);
        return rented.AsSpan(5, (int)message.Length - 5);
    }

    private static void Return(byte[]? rented)
    {
        if (rented is not null)
            ArrayPool<byte>.Shared.Return(rented);
    }
}
