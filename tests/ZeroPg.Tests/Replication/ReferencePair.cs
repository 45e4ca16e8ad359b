using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Replication;

/// <summary>
/// The two servers a differential test decodes the same workload on: native PostgreSQL 15 with <c>wal_level=logical</c> (plus
/// the test's settings) and ZeroPg, started side by side; their connection strings carry the test's command timeout.
/// Postgres's commits are flushed before they are acknowledged (<c>synchronous_commit=on</c>, over the test cluster's
/// <c>off</c>): a slot is decoded only up to the flushed WAL, so a peek right after a workload missed its last transactions
/// whenever the WAL writer had not run yet.
/// </summary>
internal sealed class ReferencePair(string[] postgresSettings, ZeroPgOptions zeropgOptions, int commandTimeoutSeconds)
{
    private readonly NativePostgres _postgres = new() { Settings = ["wal_level=logical", "synchronous_commit=on", .. postgresSettings] };
    private ZeroPgServer? _zeropg;

    public string Postgres => _postgres.ConnectionString() + $";Timeout=30;Command Timeout={commandTimeoutSeconds}";

    public string ZeroPg => _zeropg!.GetConnectionString() + $";Pooling=false;Timeout=30;Command Timeout={commandTimeoutSeconds}";

    public async Task StartAsync()
    {
        await Task.WhenAll(_postgres.InitializeAsync(), StartZeroPgAsync());
        async Task StartZeroPgAsync() => _zeropg = await ZeroPgServer.StartAsync(zeropgOptions, TestLogging.Factory);
    }

    public async Task StopAsync()
    {
        if (_zeropg is not null)
            await _zeropg.DisposeAsync();
        await _postgres.DisposeAsync();
    }
}
