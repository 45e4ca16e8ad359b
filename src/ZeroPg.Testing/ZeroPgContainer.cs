using Microsoft.Extensions.Logging;

namespace ZeroPg.Testing;

/// <summary>
/// A ZeroPg server for a test suite, with Testcontainers' lifecycle names (StartAsync, StopAsync, DisposeAsync,
/// GetConnectionString, ExecScriptAsync). Framework-neutral: NUnit's [OneTimeSetUp]/[OneTimeTearDown] and MSTest's
/// [ClassInitialize]/[ClassCleanup] call StartAsync and DisposeAsync; xunit users take <see cref="ZeroPgFixture"/>.
/// </summary>
public sealed class ZeroPgContainer : IAsyncDisposable
{
    private readonly ZeroPgOptions _options;
    private ZeroPgServer? _server;
    private int _databases;
    private ZeroPgSnapshot? _snapshot;

    internal ZeroPgContainer(ZeroPgOptions options) => _options = options;

    /// <summary>The running server (its port, metrics, ExecScriptAsync on other databases).</summary>
    public ZeroPgServer Server => _server ?? throw new InvalidOperationException("Call StartAsync first.");

    /// <summary>The database the connection string names: the builder's WithDatabase, else the username's when it is not postgres (as the Postgres image), else postgres.</summary>
    public string Database => _options.StartDatabase ?? "postgres";

    public async Task StartAsync(CancellationToken cancellationToken = default) => await StartAsync(null, cancellationToken);

    public async Task StartAsync(ILoggerFactory? loggerFactory, CancellationToken cancellationToken = default)
    {
        if (_server is not null)
            return;
        _server = await ZeroPgServer.StartAsync(_options, loggerFactory, cancellationToken); // makes the database (ZeroPgOptions.Database)
    }

    /// <summary>An Npgsql connection string for the database, user and password the builder named.</summary>
    public string GetConnectionString() => Server.GetConnectionString();

    /// <summary>
    /// A new database for one test: a copy of <paramref name="template"/> (a migrated database, made once), or an empty one;
    /// its connection string. The template must have no connections open while it is copied (use Pooling=false for it, or
    /// clear Npgsql's pools), as Postgres requires.
    /// </summary>
    public async Task<string> CreateDatabaseAsync(string? template = null, string? name = null, CancellationToken cancellationToken = default)
    {
        name ??= $"test_{Interlocked.Increment(ref _databases)}_{Guid.NewGuid():N}"[..28];
        var sql = $"CREATE DATABASE {Quote(name)}" + (template is null ? "" : $" TEMPLATE {Quote(template)}");
        var created = await Server.ExecScriptAsync(sql, cancellationToken: cancellationToken);
        if (created.ExitCode != 0)
            throw new InvalidOperationException($"{sql} failed: {created.Stderr.Trim()} ({created.SqlState})");
        return Server.GetConnectionString().Replace($"Database={Quote(Database)}", $"Database={Quote(name)}", StringComparison.Ordinal);
    }

    /// <summary>
    /// Takes a snapshot of the builder's database (after migrations and seed data, say) for <see cref="RestoreAsync"/>; see
    /// <see cref="ZeroPgServer.SnapshotAsync"/>. The container keeps the last one taken.
    /// </summary>
    public async Task<ZeroPgSnapshot> SnapshotAsync(CancellationToken cancellationToken = default)
    {
        var snapshot = await Server.SnapshotAsync(Database, cancellationToken);
        var previous = Interlocked.Exchange(ref _snapshot, snapshot);
        if (previous is not null)
            await previous.DisposeAsync();
        return snapshot;
    }

    /// <summary>
    /// Brings the database back to <paramref name="snapshot"/>, by default the last one <see cref="SnapshotAsync"/> took, while the
    /// server runs (e.g. before each test). Idle pooled connections stay usable; one inside a transaction is terminated (FATAL 57P01).
    /// </summary>
    public Task RestoreAsync(ZeroPgSnapshot? snapshot = null, CancellationToken cancellationToken = default)
        => Server.RestoreAsync(snapshot ?? Volatile.Read(ref _snapshot) ?? throw new InvalidOperationException("Take a snapshot first (SnapshotAsync)."), cancellationToken);

    private static string Quote(string name) => "\"" + name.Replace("\"", "\"\"") + "\"";

    /// <summary>Runs a script in the builder's database as its user; the outcome as psql's exit code, output and error.</summary>
    public Task<ScriptResult> ExecScriptAsync(string script, CancellationToken cancellationToken = default)
        => Server.ExecScriptAsync(script, Database, cancellationToken);

    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (_server is not null)
            await _server.StopAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
            await _server.DisposeAsync();
        _server = null;
    }
}
