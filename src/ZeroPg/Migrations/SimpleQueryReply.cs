using ZeroPg.Protocol;
using ZeroPg.Protocol.Backend;

namespace ZeroPg.Migrations;

/// <summary>Reads the reply of one simple Query: the last result set's rows as text, or the first error.</summary>
internal static class SimpleQueryReply
{
    public static IReadOnlyList<string?[]> Parse(ReadOnlySpan<byte> reply)
    {
        var rows = new List<string?[]>();
        MigrationSqlException? error = null;
        foreach (var message in new MessageReader(reply))
        {
            switch (message.Backend)
            {
                case BackendCode.RowDescription:
                    rows = []; // a new result set: only the last one is returned
                    break;
                case BackendCode.DataRow:
                    rows.Add(DataRow.ReadText(message.Body));
                    break;
                case BackendCode.ErrorResponse:
                    error ??= Error(message.Body);
                    break;
            }
        }
        if (error is not null)
            throw error;
        return rows;
    }

    private static MigrationSqlException Error(ReadOnlySpan<byte> body) => new(
        ErrorResponse.ReadField(body, ErrorField.SqlState) ?? "XX000",
        ErrorResponse.ReadField(body, ErrorField.Message) ?? "unknown error",
        ErrorResponse.ReadField(body, ErrorField.Detail),
        ErrorResponse.ReadField(body, ErrorField.Hint),
        int.TryParse(ErrorResponse.ReadField(body, ErrorField.Position), out var position) ? position : null,
        ErrorResponse.ReadField(body, ErrorField.Where));
}
