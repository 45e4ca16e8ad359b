using Aspire.Hosting.ApplicationModel;

namespace Aspire.Hosting;

/// <summary>A database of a <see cref="ZeroPgServerResource"/>, made with CREATE DATABASE before it reports healthy.</summary>
public sealed class ZeroPgDatabaseResource(string name, string databaseName, ZeroPgServerResource parent)
    : Resource(name), IResourceWithParent<ZeroPgServerResource>, IResourceWithConnectionString, IResourceWithWaitSupport
{
    public ZeroPgServerResource Parent { get; } = parent;

    /// <summary>The name of the database in the server (the resource's name unless given).</summary>
    public string DatabaseName { get; } = databaseName;

    /// <summary>The server's connection string with Database=... (as Aspire's Postgres database resource).</summary>
    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"{Parent};Database={DatabaseName}");
}
