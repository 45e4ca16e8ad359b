using System.Text;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Frontend;
using ZeroPg.Sessions.Statements;
using ZeroPg.Sql;

namespace ZeroPg.Sessions;

/// <summary>
/// A client's statement names mapped onto the shared engine's statements: Parse, Bind/Describe
/// and Close of named statements, re-preparing what the engine lost.
/// </summary>
internal sealed partial class ClientSession
{
    private void RewriteParse(ReadOnlySpan<byte> message, ParseMessage parse, SqlAnalysis analysis)
    {
        if (parse.StatementName.IsEmpty)
        {
            _statements.UnnamedDeallocatesAll = analysis.DeallocatesAll;
            _statements.LastUnnamedParse = message.ToArray();
            var version = ++_statements.UnnamedVersion;
            Catalog.Unnamed = (this, version);
            _engineBatch.Append(message);
            Expect(ExpectKind.Forward, FrontendCode.Parse, onCompleted: ok =>
            {
                // A failed Parse leaves no unnamed statement (it dropped the old one): nothing to replay later.
                if (!ok && _statements.UnnamedVersion == version)
                    _statements.LastUnnamedParse = null;
            });
            return;
        }
        var name = Encoding.UTF8.GetString(parse.StatementName);
        if (_statements.Contains(name))
        {
            RaiseInEngine(PgError.Error(SqlState.DuplicatePreparedStatement, $"prepared statement \"{name}\" already exists"));
            return;
        }
        var statement = Catalog.GetOrAdd(parse.Sql, parse.ParameterTypes);
        _statements.Add(name, statement);
        if (Catalog.IsPrepared(statement))
        {
            Expect(ExpectKind.Synthesize, FrontendCode.Parse, ParseCompleteReply, ok =>
            {
                if (!ok)
                    _statements.RemoveIf(name, statement); // skipped after an earlier error, as Postgres would
            });
            return;
        }
        CloseIfMaybeHeld(statement);
        ParseMessage.Write(_engineBatch, statement.EngineNameBytes, statement.Sql, statement.ParameterTypes);
        var completed = MarkPrepared(statement);
        Expect(ExpectKind.Forward, FrontendCode.Parse, onCompleted: ok =>
        {
            completed(ok);
            if (!ok)
                _statements.RemoveIf(name, statement);
        });
    }

    /// <summary>The engine name to use for a client's statement name, preparing it first if the engine lost it; null after raising 26000.</summary>
    private byte[]? ResolveStatement(ReadOnlySpan<byte> clientName, FrontendCode code)
    {
        if (clientName.IsEmpty)
        {
            if (Catalog.Unnamed == (this, _statements.UnnamedVersion))
                return [];
            if (_statements.LastUnnamedParse is { } replay)
            {
                // Another client's Parse replaced the engine's unnamed statement since ours: parse ours again.
                _engineBatch.Append(replay);
                Expect(ExpectKind.Swallow, FrontendCode.Parse);
                Catalog.Unnamed = (this, _statements.UnnamedVersion);
                return [];
            }
            RaiseInEngine(PgError.Error(SqlState.InvalidSqlStatementName, "unnamed prepared statement does not exist"));
            return null;
        }
        var name = Encoding.UTF8.GetString(clientName);
        if (!_statements.TryGet(name, out var statement))
        {
            RaiseInEngine(PgError.Error(SqlState.InvalidSqlStatementName, $"prepared statement \"{name}\" does not exist"));
            return null;
        }
        if (!Catalog.IsPrepared(statement))
        {
            CloseIfMaybeHeld(statement);
            ParseMessage.Write(_engineBatch, statement.EngineNameBytes, statement.Sql, statement.ParameterTypes);
            Expect(ExpectKind.Swallow, FrontendCode.Parse, onCompleted: MarkPrepared(statement));
        }
        return statement.EngineNameBytes;
    }

    private void RewriteClose(ReadOnlySpan<byte> message, TargetedMessage close)
    {
        if (close.Target == TargetedMessage.Portal)
        {
            Forward(FrontendCode.Close, message);
            return;
        }
        if (!close.Name.IsEmpty)
        {
            // Only this client's name goes; the engine statement stays for others that share it.
            _statements.Remove(Encoding.UTF8.GetString(close.Name));
            Expect(ExpectKind.Synthesize, FrontendCode.Close, CloseCompleteReply);
            return;
        }
        _statements.LastUnnamedParse = null;
        if (Catalog.Unnamed.Owner == this)
        {
            Catalog.Unnamed = default;
            Forward(FrontendCode.Close, message);
        }
        else
        {
            Expect(ExpectKind.Synthesize, FrontendCode.Close, CloseCompleteReply);
        }
    }

    /// <summary>
    /// A statement prepared in an earlier epoch may still be in the engine (the reset that bumped the epoch
    /// failed, e.g. DISCARD ALL inside a transaction block): closing it first (no error when absent) keeps the Parse from failing with 42P05.
    /// </summary>
    private void CloseIfMaybeHeld(EngineStatement statement)
    {
        if (statement.PreparedEpoch < 0)
            return;
        TargetedMessage.Write(_engineBatch, FrontendCode.Close, TargetedMessage.Statement, statement.EngineNameBytes);
        Expect(ExpectKind.Swallow, FrontendCode.Close);
    }

        /// <summary>Marks the statement prepared now (so a later Parse in the same batch is not sent twice) and undoes that if the engine refuses it.</summary>
    private Action<bool> MarkPrepared(EngineStatement statement)
    {
        var epoch = Catalog.Epoch;
        statement.PreparedEpoch = epoch;
        return ok =>
        {
            if (!ok && statement.PreparedEpoch == epoch)
                statement.PreparedEpoch = -1;
        };
    }
}
