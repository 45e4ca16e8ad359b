using ZeroPg.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Engine.Native;

/// <summary>A ZeroPg server with --engine postgres: Debian's native PostgreSQL 15 behind the same front door.</summary>
public sealed class NativeServerFixture : ServerFixture
{
    protected override ZeroPgOptions Options() => new()
    {
        Engine = EngineKind.Postgres,
        PostgresBinDirectory = NativePostgres.DefaultBin,
        MaxConnections = 100,
        PostgresSettings = { ["shared_buffers"] = "32MB" },
    };
}

[CollectionDefinition(Name)]
public sealed class NativeServerCollection : ICollectionFixture<NativeServerFixture>
{
    public const string Name = "native server";
}
