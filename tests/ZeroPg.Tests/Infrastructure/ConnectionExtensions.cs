using Npgsql;

namespace ZeroPg.Tests.Infrastructure;

public static class ConnectionExtensions
{
    public static async Task<object?> ScalarAsync(this NpgsqlConnection connection, string sql, int commandTimeout = 30)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = commandTimeout };
        return await command.ExecuteScalarAsync();
    }

    public static async Task<string> TextAsync(this NpgsqlConnection connection, string sql)
        => Convert.ToString(await connection.ScalarAsync(sql))!;

    public static async Task ExecAsync(this NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
