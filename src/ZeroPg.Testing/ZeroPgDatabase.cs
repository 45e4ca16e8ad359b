namespace ZeroPg.Testing;

/// <summary>
/// One ZeroPg server and its database for the tests that share it, in any test framework: start it once
/// (<see cref="StartAsync"/>), take a snapshot after the schema is in place, restore it before each test, or give each
/// test a fresh database of its own (<see cref="CreateDatabaseAsync"/>). Dispose it after the last test.
/// xunit v2 and v3 get it as a fixture (ZeroPgFixture in ZeroPg.Testing.Xunit, ZeroPg.Testing.XunitV3); NUnit and
/// MSTest call it from their own hooks:
/// <code>
/// [OneTimeSetUp] public Task Start() => db.StartAsync();        // NUnit; MSTest: [ClassInitialize] (static)
/// [SetUp] public Task Reset() => db.RestoreAsync();              // MSTest: [TestInitialize]
/// [OneTimeTearDown] public ValueTask Stop() => db.DisposeAsync(); // MSTest: [ClassCleanup] (static)
/// </code>
/// Derive and override <see cref="Configure"/> for a database, user, password or init scripts, and
/// <see cref="OnStartedAsync"/> to migrate once. One instance per test class keeps parallel classes apart.
/// </summary>
public class ZeroPgDatabase : IAsyncDisposable
{
    private readonly SemaphoreSlim _starting = new(1, 1);
    private ZeroPgContainer? _container;
    private bool _disposed;

    public ZeroPgContainer Container => _container ?? throw new InvalidOperationException("The database has not started: call StartAsync first (xunit fixtures start themselves).");

    public string ConnectionString => Container.GetConnectionString();

    public ZeroPgServer Server => Container.Server;

    /// <summary>Adjusts the builder before the server starts.</summary>
    protected virtual ZeroPgBuilder Configure(ZeroPgBuilder builder) => builder;

    public Task<ScriptResult> ExecScriptAsync(string script) => Container.ExecScriptAsync(script);

    /// <summary>A new database for one test, a copy of <paramref name="template"/> or empty; its connection string (see <see cref="ZeroPgContainer.CreateDatabaseAsync"/>).</summary>
    public Task<string> CreateDatabaseAsync(string? template = null, string? name = null) => Container.CreateDatabaseAsync(template, name);

    /// <summary>Takes a snapshot of the database (e.g. at the end of <see cref="OnStartedAsync"/>) for <see cref="RestoreAsync"/>.</summary>
    public Task<ZeroPgSnapshot> SnapshotAsync() => Container.SnapshotAsync();

    /// <summary>Brings the database back to the last snapshot (e.g. before each test); see <see cref="ZeroPgContainer.RestoreAsync"/>.</summary>
    public Task RestoreAsync(ZeroPgSnapshot? snapshot = null) => Container.RestoreAsync(snapshot);

    /// <summary>Runs once the server is up, before the first test: e.g. migrate, then <see cref="SnapshotAsync"/>.</summary>
    protected virtual Task OnStartedAsync() => Task.CompletedTask;

    /// <summary>Starts the server and runs <see cref="OnStartedAsync"/>; a second call (from another test of the class) waits for the first.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _starting.WaitAsync(cancellationToken);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_container is not null)
                return;
            var container = Configure(new ZeroPgBuilder()).Build();
            await container.StartAsync(cancellationToken);
            _container = container;
            await OnStartedAsync();
        }
        finally
        {
            _starting.Release();
        }
    }

    /// <summary>Stops the server (once: a framework that calls both its own hook and IAsyncDisposable stops it once).</summary>
    public async ValueTask DisposeAsync()
    {
        await _starting.WaitAsync();
        try
        {
            if (_disposed)
                return;
            _disposed = true;
            if (_container is not null)
                await _container.DisposeAsync();
        }
        finally
        {
            _starting.Release();
        }
        GC.SuppressFinalize(this);
    }
}
