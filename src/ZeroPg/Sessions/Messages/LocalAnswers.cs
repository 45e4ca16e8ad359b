using System.IO.Pipelines;
using System.Text;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;
using ZeroPg.Protocol.Frontend;
using ZeroPg.Sessions.Statements;

namespace ZeroPg.Sessions;

/// <summary>
/// Units ZeroPg answers without the engine, while the client does not hold it. A plain BEGIN alone is
/// answered at once and sent with the client's next statement (a transaction holds the engine one round
/// trip less; now() is then the time of that next statement). A unit that only prepares statements the
/// engine has already validated must not wait for another client's transaction: drivers such as pgbench
/// prepare synchronously for several connections on one thread, and would deadlock on a busy engine.
/// Thread: the session.
/// </summary>
internal sealed class LocalAnswers(ProtocolState state, StatementMapping statements, StatementCatalog catalog, PipeWriter output)
{
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    /// <summary>Answers a unit that is only a plain BEGIN (a simple Query, or a prepared one run by Bind/Execute/Sync).</summary>
    public bool TryDeferBegin(ClientBatch client, int count)
    {
        if (!state.CanDeferBegin || count == 0)
            return false;
        string tag;
        if (UnitShape.SingleQuery(client.Messages, count) is { } query)
        {
            if (client.Messages[0].Length > 64 || !query.IsPlainBegin)
                return false;
            tag = query.BeginTag;
        }
        else if (UnitShape.BoundStatement(client.Messages, count, statements, out var describes) is { Sql.Length: <= 64, IsPlainBegin: true } bound)
        {
            tag = bound.BeginTag;
            // A prepared BEGIN: its replies in the extended protocol's order.
            EmptyMessage.Write(output, BackendCode.BindComplete);
            if (describes)
                EmptyMessage.Write(output, BackendCode.NoData);
        }
        else
        {
            return false;
        }
        state.DeferBegin();
        CommandComplete.Write(output, tag);
        ReadyForQuery.Write(output, state.Status);
        return true;
    }

    /// <summary>Answers a unit made only of Parse (of validated statements), Close of statements and Sync.</summary>
    public bool TryAnswerParses(ClientBatch client, int count)
    {
        if (!state.EngineUntouched || !CanAnswer(client, count))
            return false;
        for (var i = 0; i < count; i++)
        {
            var message = client.Messages[i];
            switch (message.Code)
            {
                case FrontendCode.Parse:
                    var parse = ParseMessage.FromMessage(client.Bytes(message));
                    statements.Own.Add(message.StatementName!, catalog.FindValidated(parse.Sql, parse.ParameterTypes)!);
                    EmptyMessage.Write(output, BackendCode.ParseComplete);
                    break;
                case FrontendCode.Close:
                    statements.Own.Remove(message.StatementName!);
                    EmptyMessage.Write(output, BackendCode.CloseComplete);
                    break;
                case FrontendCode.Sync:
                    ReadyForQuery.Write(output, state.Status);
                    break;
            }
        }
        return true;
    }

    private bool CanAnswer(ClientBatch client, int count)
    {
        _names.Clear();
        var endsWithSync = false;
        for (var i = 0; i < count; i++)
        {
            var message = client.Messages[i];
            endsWithSync = false;
            switch (message.Code)
            {
                case FrontendCode.Parse:
                    var name = message.StatementName!;
                    if (name.Length == 0 || statements.Own.Contains(name) || !_names.Add(name))
                        return false;
                    var parse = ParseMessage.FromMessage(client.Bytes(message));
                    if (catalog.FindValidated(parse.Sql, parse.ParameterTypes) is null)
                        return false;
                    break;
                case FrontendCode.Close:
                    if (!message.TargetsStatement || message.StatementName!.Length == 0 || _names.Contains(message.StatementName)
                        || statements.IsMadeBySql(message.StatementName))
                        return false;
                    break;
                case FrontendCode.Sync:
                    endsWithSync = true;
                    break;
                default:
                    return false;
            }
        }
        return endsWithSync;
    }
}
