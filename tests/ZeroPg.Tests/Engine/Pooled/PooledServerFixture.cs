using ZeroPg.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Engine.Pooled;

/// <summary>
/// A ZeroPg server with --engine postgres --pool 4: Debian's native PostgreSQL 15 behind the pool, fewer backends than the
/// session tests open clients over a run, so backends go from client to client.
/// </summary>
public sealed class PooledServerFixture : ServerFixture
{
    public const int PoolSize = 4;

    protected override ZeroPgOptions Options() => new()
    {
        Engine = EngineKind.Postgres,
        PostgresBinDirectory = NativePostgres.DefaultBin,
        MaxConnections = 100,
        PoolSize = PoolSize,
        PoolWaitTimeout = TimeSpan.FromSeconds(60),
        PostgresSettings = { ["shared_buffers"] = "32MB" },
    };
}

[CollectionDefinition(Name)]
public sealed class PooledServerCollection : ICollectionFixture<PooledServerFixture>
{
    public const string Name = "pooled native server";
}

/// <summary>The pooled server on Kestrel's sockets (<c>--no-pool-event-loop</c>, and every OS but Linux).</summary>
public sealed class KestrelPooledServerFixture : ServerFixture
{
    protected override ZeroPgOptions Options() => new()
    {
        Engine = EngineKind.Postgres,
        PostgresBinDirectory = NativePostgres.DefaultBin,
        MaxConnections = 100,
        PoolSize = PooledServerFixture.PoolSize,
        PoolWaitTimeout = TimeSpan.FromSeconds(60),
        PoolEventLoop = false,
        PostgresSettings = { ["shared_buffers"] = "32MB" },
    };
}

[CollectionDefinition(Name)]
public sealed class KestrelPooledServerCollection : ICollectionFixture<KestrelPooledServerFixture>
{
    public const string Name = "pooled native server on Kestrel's sockets";
}
