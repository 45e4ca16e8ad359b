namespace ZeroPg.Tests.Infrastructure;

/// <summary>
/// Native PostgreSQL 15 (the reference) and a ZeroPg server, started side by side for a test class that compares the two:
/// its base class, or its class fixture when the tests share the servers.
/// </summary>
public class ServersSideBySide : IAsyncLifetime
{
    public NativePostgres Postgres { get; } = new();

    public ZeroPgServer ZeroPg { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Task.WhenAll(Postgres.InitializeAsync(), StartZeroPgAsync());
        async Task StartZeroPgAsync() => ZeroPg = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
    }

    public async Task DisposeAsync()
    {
        if (ZeroPg is not null)
            await ZeroPg.DisposeAsync();
        await Postgres.DisposeAsync();
    }
}
