using Npgsql;

namespace ZeroPg.Tests.Infrastructure;

/// <summary>One real ZeroPg server (memory://, port 0) shared by the tests of a collection.</summary>
public class ServerFixture : IAsyncLifetime
{
    public ZeroPgServer Server { get; private set; } = null!;

    public string ConnectionString => Server.GetConnectionString();

    /// <summary>A libpq URL for psql and pgbench.</summary>
    public string Url => Server.Url;

    public async Task InitializeAsync() => Server = await ZeroPgServer.StartAsync(Options(), TestLogging.Factory);

    /// <summary>The server's options; a derived fixture runs the same tests against another engine.</summary>
    protected virtual ZeroPgOptions Options() => new() { MaxConnections = 600 };

    public async Task DisposeAsync() => await Server.DisposeAsync();

    public async Task<NpgsqlConnection> OpenAsync(string? extra = null)
    {
        var connection = new NpgsqlConnection(ConnectionString + ";Pooling=false;" + extra);
        await connection.OpenAsync();
        return connection;
    }
}

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>
{
    public const string Name = "shared server";
}
