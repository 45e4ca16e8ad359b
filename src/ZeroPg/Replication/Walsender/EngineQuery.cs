using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;

namespace ZeroPg.Replication.Walsender;

/// <summary>Runs ZeroPg's own statements in the engine through the scheduler, between other clients' units
/// (as the engine's own role), and returns each statement's rows as text. The session provides it.</summary>
internal delegate Task<IReadOnlyList<IReadOnlyList<string?[]>>> EngineQuery(IReadOnlyList<string> statements);

/// <summary>
/// Runs reads inside the open transaction of the session that holds the engine, without waiting for it to end (see
/// Sessions/EngineLoans); null when the engine is free or its holder cannot lend it (then: <see cref="EngineQuery"/>).
/// </summary>
internal delegate Task<IReadOnlyList<IReadOnlyList<string?[]>>?> EngineLoan(IReadOnlyList<string> statements);

internal static class EngineResults
{
    /// <summary>Splits a captured reply (one simple Query per statement) into each statement's rows. An error in
    /// one becomes the walsender command's error: the message and SQLSTATE Postgres gave.</summary>
    public static IReadOnlyList<IReadOnlyList<string?[]>> Split(IReadOnlyList<byte[]> captured)
    {
        var results = new List<IReadOnlyList<string?[]>>();
        var rows = new List<string?[]>();
        foreach (var message in captured)
        {
            switch ((BackendCode)message[0])
            {
                case BackendCode.DataRow:
                    rows.Add(TextRow.Parse(message).Columns);
                    break;
                case BackendCode.CommandComplete:
                case BackendCode.EmptyQueryResponse:
                    results.Add(rows);
                    rows = [];
                    break;
                case BackendCode.ErrorResponse:
                    throw new PgErrorException(ErrorReply.Parse(message).ToError("XX000", "error in the engine"));
            }
        }
        return results;
    }

    public static string Literal(string value) => "'" + value.Replace("'", "''") + "'";
}
