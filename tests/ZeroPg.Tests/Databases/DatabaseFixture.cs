using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Databases;

/// <summary>One memory:// server for the database tests; each test makes databases of its own names.</summary>
public sealed class DatabaseFixture : IAsyncLifetime
{
    private int _names;

    public ZeroPgServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);

    public async Task DisposeAsync() => await Server.DisposeAsync();

    public string NewName(string prefix) => $"{prefix}_{Interlocked.Increment(ref _names)}";

    public string ConnectionString(string database, string? extra = null)
        => new NpgsqlConnectionStringBuilder(Server.GetConnectionString() + ";" + extra) { Database = database }.ConnectionString;

    public async Task<NpgsqlConnection> OpenAsync(string database, string? extra = "Pooling=false;Include Error Detail=true")
    {
        var connection = new NpgsqlConnection(ConnectionString(database, extra));
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>Runs SQL on postgres (Npgsql: the extended protocol).</summary>
    public async Task ExecuteAsync(string sql, string database = "postgres")
    {
        await using var connection = await OpenAsync(database);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
