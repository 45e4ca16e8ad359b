using ZeroPg.Engine;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;
using ZeroPg.Sessions;

namespace ZeroPg.Storage.Snapshots;

/// <summary>What one simple Query of ZeroPg's own batch answered: its text rows, the data it copied out (COPY TO STDOUT), or its error.</summary>
internal sealed class QueryResult
{
    public List<string?[]> Rows { get; } = [];

    public MemoryStream? Copied { get; set; }

    public OwnSqlException? Error { get; set; }
}

/// <summary>Runs a batch of simple Queries in an engine the caller holds and splits the reply per Query (each ends with ReadyForQuery).</summary>
internal static class QueryResults
{
    public static async Task<IReadOnlyList<QueryResult>> RunAsync(EngineProcess engine, BatchBuffer batch, TimeSpan timeout)
    {
        var call = new CollectingCall();
        await engine.SubmitAsync(call, batch.Frame());
        await call.Completion.WaitAsync(timeout);
        return Split(call.Reply.WrittenSpan);
    }

    public static IReadOnlyList<QueryResult> Split(ReadOnlySpan<byte> reply)
    {
        var results = new List<QueryResult>();
        var current = new QueryResult();
        foreach (var message in new MessageReader(reply))
        {
            switch (message.Backend)
            {
                case BackendCode.DataRow:
                    current.Rows.Add(DataRow.ReadText(message.Body));
                    break;
                case BackendCode.CopyOutResponse:
                    current.Copied = new MemoryStream();
                    break;
                case BackendCode.CopyData:
                    current.Copied?.Write(message.Body);
                    break;
                case BackendCode.ErrorResponse:
                    current.Error ??= new OwnSqlException(ErrorResponse.ReadSqlState(message.Body) ?? "",
                        ErrorResponse.ReadField(message.Body, ErrorField.Message) ?? "error in the engine");
                    break;
                case BackendCode.ReadyForQuery:
                    results.Add(current);
                    current = new QueryResult();
                    break;
            }
        }
        return results;
    }
}
