using Npgsql;
using ZeroPg.Migrations;

namespace ZeroPg.Cli;

/// <summary>`zeropg migrate --url`: migrations over a client connection, to ZeroPg or to any Postgres server.</summary>
internal sealed class NpgsqlMigrationSession(NpgsqlConnection connection) : IMigrationSession
{
    public async Task<IReadOnlyList<string?[]>> QueryAsync(string sql, CancellationToken cancellationToken)
    {
        // A batch of one command without parameters is sent as ONE simple Query: a multi-statement script
        // runs in one implicit transaction, as the tools themselves send it.
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0, AllResultTypesAreUnknown = true };
        try
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var rows = new List<string?[]>();
            do
            {
                rows = [];
                while (await reader.ReadAsync(cancellationToken))
                {
                    var row = new string?[reader.FieldCount];
                    for (var i = 0; i < row.Length; i++)
                        row[i] = reader.IsDBNull(i) ? null : reader.GetString(i);
                    rows.Add(row);
                }
            }
            while (await reader.NextResultAsync(cancellationToken));
            return rows;
        }
        catch (PostgresException error)
        {
            throw new MigrationSqlException(error.SqlState, error.MessageText, error.Detail, error.Hint, error.Position > 0 ? error.Position : null, error.Where);
        }
    }
}
