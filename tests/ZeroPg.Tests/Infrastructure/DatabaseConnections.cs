using Npgsql;

namespace ZeroPg.Tests.Infrastructure;

/// <summary>One unpooled connection to a named database of a server started in the test, and the one-statement helpers on it.</summary>
public static class DatabaseConnections
{
    public static async Task<NpgsqlConnection> OpenAsync(this ZeroPgServer server, string database)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server.GetConnectionString()) { Database = database, Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    public static async Task ExecAsync(this ZeroPgServer server, string database, string sql)
    {
        await using var connection = await server.OpenAsync(database);
        await connection.ExecAsync(sql);
    }

    public static async Task<string> TextAsync(this ZeroPgServer server, string database, string sql)
    {
        await using var connection = await server.OpenAsync(database);
        return await connection.TextAsync(sql);
    }
}
