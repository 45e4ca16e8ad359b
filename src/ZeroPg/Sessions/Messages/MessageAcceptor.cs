using System.Buffers;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Frontend;
using ZeroPg.Sql;

namespace ZeroPg.Sessions;

/// <summary>
/// Takes each whole client message, parsed and analysed once here, into the session's batch, or returns the step the session
/// must take for it (<see cref="AcceptStep"/>); a step that needs more than its kind carries it in <see cref="Pending"/> (the
/// refusal, the database command, the client_encoding statement). Synchronous: anything that must wait is a step. Thread: the session.
/// </summary>
internal sealed class MessageAcceptor(SessionComposition parts, CopyPortals copyPortals)
{
    private readonly ProtocolState _state = parts.State;
    private readonly ClientBatch _batch = parts.Batch;

    /// <summary>On a replication connection, what takes its replication commands.</summary>
    public ReplicationConnection? Replication { get; set; }

    /// <summary>What the last step returned needs: a <see cref="PgError"/> to answer, a <see cref="DatabaseStatement"/> or a <see cref="ClientEncodingStatement"/> to run.</summary>
    public object? Pending { get; private set; }

    /// <summary>Takes the pending payload of the step being run.</summary>
    public T Take<T>() where T : class
    {
        var pending = (T)Pending!;
        Pending = null;
        return pending;
    }

    /// <summary>
    /// Takes one whole client message after converting its text from the client's encoding to the engine's UTF8
    /// (<see cref="ClientEncoding.ToServer"/>). Text the client's encoding does not hold is refused as Postgres refuses
    /// it: a Query with the error and its ReadyForQuery; an extended message with the error in its place (the rest skipped
    /// to Sync); COPY data by failing the COPY with the error's text.
    /// </summary>
    public AcceptStep Accept(FrontendCode code, ReadOnlySequence<byte> message)
    {
        ReadOnlySequence<byte> converted;
        try
        {
            converted = parts.Output.Encoding.ToServer(code, message);
        }
        catch (PgErrorException error) when (!error.Error.IsFatal)
        {
            switch (code)
            {
                case FrontendCode.Query:
                    return Refuse(error.Error);
                case FrontendCode.CopyData or FrontendCode.CopyDone when _state.InCopy:
                    var fail = new ArrayBufferWriter<byte>(error.Error.Message.Length + 8);
                    CopyFailMessage.Write(fail, error.Error.Message);
                    return parts.Copy.Accept(FrontendCode.CopyFail, new ReadOnlySequence<byte>(fail.WrittenMemory));
                default:
                    var count = _batch.Count;
                    var step = AcceptConverted(code, message);
                    if (_batch.Count > count)
                        _batch.RefuseLast(error.Error);
                    return step;
            }
        }
        return AcceptConverted(code, converted);
    }

    private AcceptStep AcceptConverted(FrontendCode code, ReadOnlySequence<byte> message)
    {
        if (_state.InCopy)
            return parts.Copy.Accept(code, message);
        if (_state.ClientSkipsToSync)
        {
            // Postgres ignores every message after an error in an extended sequence up to the Sync; that Sync goes to the engine,
            // which answers it with ReadyForQuery as it would have.
            if (code == FrontendCode.Sync)
                _state.ClientSynced();
            else if (code != FrontendCode.Terminate)
                return AcceptStep.Continue;
        }
        switch (code)
        {
            case FrontendCode.Query:
                return AcceptQuery(message);
            case FrontendCode.FunctionCall when RefusedStatements.CallsServerFileFunction(message):
                return Refuse(RefusedStatements.ServerFiles);
            case FrontendCode.Sync:
            case FrontendCode.Flush:
            case FrontendCode.FunctionCall:
                _batch.Add(code, message);
                _batch.EndUnit();
                return AcceptStep.Continue;
            case FrontendCode.Execute:
                _batch.Add(code, message);
                if (!copyPortals.Contains(_batch.Messages[^1].PortalName!))
                    return AcceptStep.Continue;
                if (copyPortals.ExecutesCopyFromStdin())
                    return AcceptStep.StartExtendedCopy;
                _batch.RefuseLast(RefusedStatements.CopyPortalNotAfterBind);
                return AcceptStep.Continue;
            case FrontendCode.Bind:
                _batch.Add(code, message);
                copyPortals.Bound(_batch.Messages[^1]);
                return AcceptStep.Continue;
            case FrontendCode.Close:
                _batch.Add(code, message);
                if (_batch.Messages[^1] is { TargetsStatement: false, PortalName: { } closed })
                    copyPortals.Closed(closed);
                return AcceptStep.Continue;
            case FrontendCode.Parse:
            case FrontendCode.Describe:
                _batch.Add(code, message);
                return AcceptStep.Continue;
            case FrontendCode.CopyData:
                Replication?.Walsender.CopyDataAfterStream(message); // a status update that arrived after the stream's cancel
                return AcceptStep.Continue;
            case FrontendCode.CopyDone:
            case FrontendCode.CopyFail:
                // Postgres ignores these outside COPY: a client may still be sending data of a COPY that failed.
                return AcceptStep.Continue;
            case FrontendCode.Terminate:
                return AcceptStep.Terminate;
            default:
                throw ProtocolViolation.Create($"unexpected message type '{(char)code}' after startup");
        }
    }

    private AcceptStep AcceptQuery(ReadOnlySequence<byte> message)
    {
        var text = QueryMessage.ReadSql(message);
        if (Replication?.Accept(text, out var replicationRefusal) is { } replicationStep)
            return replicationRefusal is null ? replicationStep : Refuse(replicationRefusal);
        var sql = SqlAnalysis.Of(text);
        if (sql.ClientEncodingCommand is { } encodingCommand)
            return Step(AcceptStep.ClientEncoding, encodingCommand);
        if (Replication is not null && Replication.SetsWithoutWaiting(sql, _batch))
            return AcceptStep.LocalSet;
        if (RefusedStatements.Find(sql, parts.Identity, parts.Services.Registry) is { } refusal)
            return Refuse(refusal);
        if (sql.CopiesFromStdinLater)
        {
            // PGlite dies on a COPY FROM STDIN whose data is not in the same call, and only a leading COPY gets its data.
            return Refuse(PgError.Error(SqlState.FeatureNotSupported,
                "COPY FROM STDIN must be the first statement of a query in ZeroPg",
                "Send the COPY as a query of its own (psql scripts and \\copy do); the query did not run."));
        }
        if (sql.DatabaseCommand is { SyntaxError: null, Alone: true } command && _state.Status == TransactionStatus.Idle)
            return Step(AcceptStep.DatabaseCommand, command); // else the engine refuses it, as Postgres does: 25001 in a transaction block or beside other statements
        if (sql.CopiesFromStdin)
        {
            parts.Copy.Pend(message, sql);
            return AcceptStep.StartCopy;
        }
        _batch.Add(FrontendCode.Query, message, sql);
        _batch.EndUnit();
        return AcceptStep.Continue;
    }

    private AcceptStep Refuse(PgError error) => Step(AcceptStep.Refuse, error);

    private AcceptStep Step(AcceptStep step, object pending)
    {
        Pending = pending;
        return step;
    }
}
