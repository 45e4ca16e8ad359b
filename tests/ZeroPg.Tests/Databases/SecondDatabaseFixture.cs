using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Databases;

/// <summary>A server whose clients use a second database (made at start, its own engine), not postgres.</summary>
public sealed class SecondDatabaseFixture : ServerFixture
{
    public const string Database = "second";

    protected override ZeroPgOptions Options() => new() { MaxConnections = 600, Database = Database };
}

[CollectionDefinition(Name)]
public sealed class SecondDatabaseCollection : ICollectionFixture<SecondDatabaseFixture>
{
    public const string Name = "second database";
}
