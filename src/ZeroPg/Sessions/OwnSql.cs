using ZeroPg.Engine;
using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;
using ZeroPg.Protocol.Frontend;

namespace ZeroPg.Sessions;

/// <summary>
/// ZeroPg's own SQL in the engine, whoever runs it: housekeeping (cleanup, re-LISTEN, advisory unlocks),
/// captured reads (the settings snapshot, temp relations, the advisory lock functions' install) and the
/// server's CHECKPOINT. Each statement is its own Query, so one failing does not skip the rest.
/// Sessions run it through <see cref="EngineLink.RunOwnSqlAsync"/>.
/// </summary>
internal static class OwnSql
{
    /// <summary>A batch of one Query per statement.</summary>
    public static BatchBuffer Batch(IEnumerable<string> statements) => Append(new BatchBuffer(), statements);

    /// <summary>Adds one Query per statement to <paramref name="batch"/>.</summary>
    public static BatchBuffer Append(BatchBuffer batch, params IEnumerable<string> statements)
    {
        foreach (var sql in statements)
            QueryMessage.Write(batch, sql);
        return batch;
    }

    /// <summary>Runs statements with nobody reading the reply (the server's own calls, such as CHECKPOINT at shutdown).</summary>
    public static async Task RunAsync(EngineProcess engine, TimeSpan timeout, params IEnumerable<string> statements)
    {
        var call = new DiscardCall();
        await engine.SubmitAsync(call, Batch(statements).Frame());
        await call.Completion.WaitAsync(timeout);
    }

    /// <summary>The first two text columns of each DataRow among captured reply messages (NULL as "").</summary>
    public static IEnumerable<(string First, string Second)> TextPairs(IEnumerable<byte[]> captured)
    {
        foreach (var message in captured)
        {
            if (message[0] != (byte)BackendCode.DataRow)
                continue;
            var columns = DataRow.ReadText(message.AsSpan(MessageFramer.HeaderLength));
            yield return (columns[0] ?? "", columns[1] ?? "");
        }
    }
}
