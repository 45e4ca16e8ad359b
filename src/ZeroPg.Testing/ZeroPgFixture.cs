using Xunit;

namespace ZeroPg.Testing;

/// <summary>
/// An xunit class or collection fixture: one ZeroPg server for the tests that share it.
/// <code>
/// [CollectionDefinition("db")] public class Db : ICollectionFixture&lt;ZeroPgFixture&gt;;
/// [Collection("db")] public class OrderTests(ZeroPgFixture pg) { ... new NpgsqlConnection(pg.ConnectionString) ... }
/// </code>
/// Derive and override <see cref="Configure"/> for a database, user, password or init scripts.
/// </summary>
public class ZeroPgFixture : IAsyncLifetime
{
    private ZeroPgContainer? _container;

    public ZeroPgContainer Container => _container ?? throw new InvalidOperationException("The fixture has not started.");

    public string ConnectionString => Container.GetConnectionString();

    public ZeroPgServer Server => Container.Server;

    /// <summary>Adjusts the builder before the server starts.</summary>
    protected virtual ZeroPgBuilder Configure(ZeroPgBuilder builder) => builder;

    public Task<ScriptResult> ExecScriptAsync(string script) => Container.ExecScriptAsync(script);

    /// <summary>A new database for one test, a copy of <paramref name="template"/> or empty; its connection string (see <see cref="ZeroPgContainer.CreateDatabaseAsync"/>).</summary>
    public Task<string> CreateDatabaseAsync(string? template = null, string? name = null) => Container.CreateDatabaseAsync(template, name);

    /// <summary>Takes a snapshot of the fixture's database (e.g. at the end of <see cref="OnStartedAsync"/>) for <see cref="RestoreAsync"/>.</summary>
    public Task<ZeroPgSnapshot> SnapshotAsync() => Container.SnapshotAsync();

    /// <summary>Brings the database back to the last snapshot (e.g. in each test class's constructor or InitializeAsync); see <see cref="ZeroPgContainer.RestoreAsync"/>.</summary>
    public Task RestoreAsync(ZeroPgSnapshot? snapshot = null) => Container.RestoreAsync(snapshot);

    /// <summary>Runs once the server is up, before the first test: e.g. make and migrate a template database.</summary>
    protected virtual Task OnStartedAsync() => Task.CompletedTask;

    public async Task InitializeAsync()
    {
        _container = Configure(new ZeroPgBuilder()).Build();
        await _container.StartAsync();
        await OnStartedAsync();
    }

    public async Task DisposeAsync()
    {
        if (_container is not null)
            await _container.DisposeAsync();
    }
}
