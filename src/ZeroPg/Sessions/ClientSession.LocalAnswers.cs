using System.Buffers.Binary;
using System.Text;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;
using ZeroPg.Protocol.Frontend;
using ZeroPg.Sessions.Statements;

namespace ZeroPg.Sessions;

/// <summary>
/// Units ZeroPg answers without the engine. A client that only prepares statements the engine has
/// already validated must not wait for another client's transaction: drivers such as pgbench prepare
/// synchronously for several connections on one thread, and would deadlock on a busy engine.
/// </summary>
internal sealed partial class ClientSession
{
    private readonly HashSet<string> _localNames = new(StringComparer.Ordinal);

    /// <summary>True when the unit was made only of Parse (of validated statements), Close of statements and Sync, and was answered.</summary>
    private bool TryAnswerLocally(ReadOnlySpan<byte> messages)
    {
        // A deferred BEGIN has not reached the engine: the client is in a transaction block only on paper.
        var untouched = _status == TransactionStatus.Idle || _beginDeferred;
        if (!untouched || _engineExtendedOpen || _services.Scheduler.Owner == this)
            return false;
        if (!CanAnswerLocally(messages))
            return false;
        var offset = 0;
        while (offset < messages.Length)
        {
            var length = 1 + BinaryPrimitives.ReadInt32BigEndian(messages[(offset + 1)..]);
            var body = messages.Slice(offset + 5, length - 5);
            switch ((FrontendCode)messages[offset])
            {
                case FrontendCode.Parse:
                    var parse = ParseMessage.Read(body);
                    _statements.Add(Encoding.UTF8.GetString(parse.StatementName), Catalog.FindValidated(parse.Sql, parse.ParameterTypes)!);
                    EmptyMessage.Write(_output, BackendCode.ParseComplete);
                    break;
                case FrontendCode.Close:
                    _statements.Remove(Encoding.UTF8.GetString(TargetedMessage.Read(body, "Close").Name));
                    EmptyMessage.Write(_output, BackendCode.CloseComplete);
                    break;
                case FrontendCode.Sync:
                    ReadyForQuery.Write(_output, _status);
                    break;
            }
            offset += length;
        }
        return true;
    }

    private bool CanAnswerLocally(ReadOnlySpan<byte> messages)
    {
        _localNames.Clear();
        var offset = 0;
        var endsWithSync = false;
        while (offset < messages.Length)
        {
            var length = 1 + BinaryPrimitives.ReadInt32BigEndian(messages[(offset + 1)..]);
            var body = messages.Slice(offset + 5, length - 5);
            endsWithSync = false;
            switch ((FrontendCode)messages[offset])
            {
                case FrontendCode.Parse:
                    var parse = ParseMessage.Read(body);
                    if (parse.StatementName.IsEmpty)
                        return false;
                    var name = Encoding.UTF8.GetString(parse.StatementName);
                    if (_statements.Contains(name) || !_localNames.Add(name) || Catalog.FindValidated(parse.Sql, parse.ParameterTypes) is null)
                        return false;
                    break;
                case FrontendCode.Close:
                    var close = TargetedMessage.Read(body, "Close");
                    if (close.Target != TargetedMessage.Statement || close.Name.IsEmpty || _localNames.Contains(Encoding.UTF8.GetString(close.Name)))
                        return false;
                    break;
                case FrontendCode.Sync:
                    endsWithSync = true;
                    break;
                default:
                    return false;
            }
            offset += length;
        }
        return endsWithSync;
    }
}
